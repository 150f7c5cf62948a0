from django.urls import path

from sportsman.accounts import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("code/", views.send_code, name="send_code"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/forgot/", views.forgot_password, name="forgot_password"),
    path("profile/", views.profile, name="profile"),
    path("profile/edit/", views.edit_profile, name="edit_profile"),
    path("profile/export.json", views.export_my_data, name="export"),
    path("profile/delete/", views.delete_my_account, name="delete"),
    path("sso/welcome/", views.sso_welcome, name="sso_welcome"),
    path("sso/<slug:provider>/start/", views.sso_start, name="sso_start"),
    path("sso/<slug:provider>/callback/", views.sso_callback, name="sso_callback"),
    path("sso/<slug:provider>/unlink/", views.sso_unlink, name="sso_unlink"),
]
