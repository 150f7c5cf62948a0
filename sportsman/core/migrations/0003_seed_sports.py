"""The sports catalogue from DOMAIN.md §6 (grassroots sports seen in Jiaxing and the Yangtze delta).
Every deployment starts with it; staff may add more."""

from django.db import migrations

SPORTS = [
    # slug, 中文, English, family, skews older, OpenActive concept id
    ("square-dance", "广场舞", "Square dance", "dance", True, ""),
    ("line-dance", "排舞", "Line dance", "dance", False, "line-dancing"),
    ("aerobics", "健身操", "Aerobics", "dance", False, "aerobics"),
    ("ballroom", "交谊舞", "Ballroom dance", "dance", True, "ballroom-dancing"),
    ("waist-drum", "腰鼓", "Waist drum", "dance", True, ""),
    ("taichi", "太极拳", "Tai chi", "traditional", True, "tai-chi"),
    ("qigong", "健身气功", "Health qigong", "traditional", True, "qigong"),
    ("wushu", "武术/太极剑", "Wushu / tai chi sword", "traditional", False, "kung-fu"),
    ("rouliqiu", "柔力球", "Rouliqiu (soft-force ball)", "traditional", True, ""),
    ("jianqiu", "毽球", "Shuttlecock kicking", "traditional", False, ""),
    ("basketball", "篮球", "Basketball", "ball", False, "basketball"),
    ("basketball-3x3", "三人篮球", "3x3 basketball", "ball", False, "3x3-basketball"),
    ("football", "足球", "Football", "ball", False, "football"),
    ("air-volleyball", "气排球", "Air volleyball", "ball", True, ""),
    ("table-tennis", "乒乓球", "Table tennis", "ball", False, "table-tennis"),
    ("badminton", "羽毛球", "Badminton", "ball", False, "badminton"),
    ("tennis", "网球", "Tennis", "ball", False, "tennis"),
    ("gateball", "门球", "Gateball", "ball", True, ""),
    ("bocce", "地掷球", "Bocce", "ball", True, "bocce"),
    ("walking", "健步走", "Fitness walking", "endurance", True, "walking"),
    ("running", "跑步", "Running", "endurance", False, "running"),
    ("cycling", "骑行", "Cycling", "endurance", False, "cycling"),
    ("hiking", "登山", "Hiking", "endurance", False, "hiking"),
    ("swimming", "游泳", "Swimming", "endurance", False, "swimming"),
    ("xiangqi", "象棋", "Xiangqi (Chinese chess)", "mind", True, ""),
    ("go", "围棋", "Go", "mind", False, ""),
    ("bridge", "桥牌", "Bridge", "mind", True, ""),
    ("guandan", "掼蛋", "Guandan (card game)", "mind", True, ""),
    ("rope-skipping", "跳绳", "Rope skipping", "other", False, "skipping"),
    ("yoga", "瑜伽", "Yoga", "other", False, "yoga"),
    ("fishing", "钓鱼", "Fishing", "other", True, "angling"),
]


def forwards(apps, schema_editor):
    Sport = apps.get_model("core", "Sport")
    for slug, zh, en, family, older, oa in SPORTS:
        Sport.objects.update_or_create(
            slug=slug, defaults={"name_zh": zh, "name_en": en, "family": family,
                                 "skews_older": older, "openactive_id": oa})


def backwards(apps, schema_editor):
    apps.get_model("core", "Sport").objects.filter(slug__in=[s[0] for s in SPORTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]
    operations = [migrations.RunPython(forwards, backwards)]
