"""Page forms for accounts. They check shape only; the services decide (codes, throttles,
passwords) and their ``DomainError`` messages are shown on the form."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sportsman.accounts.models import Consent, Sex
from sportsman.core.errors import DomainError
from sportsman.core.models import Sport

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label=_("Mobile number"), max_length=11, min_length=11,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric",
                                      "autocomplete": "tel-national", "pattern": "1[3-9][0-9]{9}"}),
    )


def _code_field() -> forms.CharField:
    return forms.CharField(
        label=_("SMS code"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class PhoneMixin:
    cleaned_data: dict[str, Any]

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if not PHONE_RE.match(phone):
            raise forms.ValidationError(_("Enter an 11-digit mainland mobile number."))
        return phone


class DomainErrorForm(forms.Form):
    # A service names its inputs ("home_community_id", "consents.terms"); the form may differ.
    field_aliases: dict[str, str] = {}

    def add_domain_error(self, exc: DomainError) -> None:
        """Show a service's refusal: on the fields it names when the form shows them, else
        above the form; its general message when it names no field."""
        if not exc.fields:
            self.add_error(None, str(exc.message))
            return
        for name, msgs in exc.fields.items():
            target = self.field_aliases.get(name, name)
            shown = target in self.fields and not self.fields[target].widget.is_hidden
            for msg in msgs if isinstance(msgs, list | tuple) else [msgs]:
                self.add_error(target if shown else None, str(msg))


class SendCodeForm(PhoneMixin, forms.Form):
    phone = _phone_field()


class LoginForm(PhoneMixin, DomainErrorForm):
    phone = _phone_field()
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class SportChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Sport) -> str:
        return obj.name


class RegisterForm(PhoneMixin, DomainErrorForm):
    field_aliases = {"consents.terms": "agree_terms", "consents.privacy": "agree_privacy"}
    phone = _phone_field()
    code = _code_field()
    password = forms.CharField(
        label=_("Password"), strip=False, min_length=8,
        help_text=_("At least 8 characters, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    nickname = forms.CharField(label=_("Nickname"), max_length=32, required=False)
    home_community = forms.IntegerField(required=False, widget=forms.HiddenInput)
    interests = SportChoiceField(label=_("Sports I like"), queryset=Sport.objects.all(),
                                 required=False, widget=forms.CheckboxSelectMultiple)
    agree_terms = forms.BooleanField(label=_("I agree to the terms of service"))
    agree_privacy = forms.BooleanField(label=_("I agree to the privacy policy"))
    agree_location = forms.BooleanField(label=_("Use my location to suggest nearby venues"),
                                        required=False)
    agree_recommend = forms.BooleanField(label=_("Personalised recommendations"), required=False)

    def consents(self) -> dict[str, bool]:
        data = self.cleaned_data
        return {
            Consent.Purpose.TERMS: bool(data.get("agree_terms")),
            Consent.Purpose.PRIVACY: bool(data.get("agree_privacy")),
            Consent.Purpose.LOCATION: bool(data.get("agree_location")),
            Consent.Purpose.RECOMMEND: bool(data.get("agree_recommend")),
        }


class ResetPasswordForm(PhoneMixin, DomainErrorForm):
    phone = _phone_field()
    code = _code_field()
    new_password = forms.CharField(
        label=_("New password"), strip=False, min_length=8,
        help_text=_("At least 8 characters, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class ProfileForm(DomainErrorForm):
    nickname = forms.CharField(label=_("Nickname"), max_length=32, required=False)
    real_name = forms.CharField(label=_("Real name"), max_length=32, required=False,
                                help_text=_("Only needed for events that insure participants."))
    sex = forms.ChoiceField(label=_("Sex"), required=False,
                            choices=[("", _("prefer not to say")), *Sex.choices])
    birth_year = forms.IntegerField(label=_("Birth year"), required=False, min_value=1900)
    home_community = forms.IntegerField(required=False, widget=forms.HiddenInput)
    interests = SportChoiceField(label=_("Sports I like"), queryset=Sport.objects.all(),
                                 required=False, widget=forms.CheckboxSelectMultiple)
    hide_from_rankings = forms.BooleanField(label=_("Hide me from rankings"), required=False)
    large_text = forms.BooleanField(label=_("Large text"), required=False)

    def clean_birth_year(self) -> int | None:
        year = self.cleaned_data.get("birth_year")
        if year is not None and year > timezone.now().year:
            raise forms.ValidationError(_("The birth year cannot be in the future."))
        return year


class DeleteAccountForm(DomainErrorForm):
    password = forms.CharField(
        label=_("Your password"), strip=False,
        help_text=_("Deleting your account cannot be undone."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SsoWelcomeForm(DomainErrorForm):
    """A new resident arriving by single sign-on: a nickname and the consents of registering."""

    field_aliases = {"consents.terms": "agree_terms", "consents.privacy": "agree_privacy"}
    nickname = forms.CharField(label=_("Nickname"), max_length=32, required=False)
    agree_terms = forms.BooleanField(label=_("I agree to the terms of service"))
    agree_privacy = forms.BooleanField(label=_("I agree to the privacy policy"))
    agree_location = forms.BooleanField(label=_("Use my location to suggest nearby venues"),
                                        required=False)
    agree_recommend = forms.BooleanField(label=_("Personalised recommendations"), required=False)

    def consents(self) -> dict[str, bool]:
        return RegisterForm.consents(self)  # type: ignore[arg-type]
