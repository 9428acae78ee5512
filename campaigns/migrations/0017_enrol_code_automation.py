"""Club enrolment codes: an addressed transactional automation (Automation.ADDRESSED_KINDS) that sends the
one-time code of a club enrolment an API partner asked for, created enabled with its English, Persian and
Arabic texts."""

from django.db import migrations, models


# A frozen copy of campaigns.defaults' "enrol_code" entry (a migration imports no project module).
ENROL_CODE = {'body': '<p>{{ partner }} asked to enrol you in our club. Your confirmation code is <strong>{{ confirmation_code '
         '}}</strong>; it is valid for {{ code_minutes }} minutes.</p><p>If you did not ask for this, ignore this '
         'message: nothing happens without the code.</p>',
 'body_ar': '<p>طلب {{ partner }} تسجيلك في نادينا. رمز التأكيد الخاص بك هو <strong>{{ confirmation_code }}</strong>، '
            'وهو صالح لمدة {{ code_minutes }} دقائق.</p><p>إذا لم تطلب ذلك فتجاهل هذه الرسالة: لا يحدث شيء دون '
            'الرمز.</p>',
 'body_en': '<p>{{ partner }} asked to enrol you in our club. Your confirmation code is <strong>{{ confirmation_code '
            '}}</strong>; it is valid for {{ code_minutes }} minutes.</p><p>If you did not ask for this, ignore this '
            'message: nothing happens without the code.</p>',
 'body_fa': '<p>{{ partner }} درخواست عضویت شما در باشگاه ما را داده است. کد تأیید شما <strong>{{ confirmation_code '
            '}}</strong> است و تا {{ code_minutes }} دقیقه معتبر است.</p><p>اگر چنین درخواستی نداده\u200cاید، این پیام '
            'را نادیده بگیرید: بدون این کد کاری انجام نمی\u200cشود.</p>',
 'channel': 'preferred',
 'cooldown_days': 0,
 'days': 0,
 'enabled': True,
 'kind': 'enrol_code',
 'name': 'Club enrolment code',
 'sms_text': 'Your club enrolment code for {{ partner }}: {{ confirmation_code }} (valid {{ code_minutes }} minutes). '
             'Did not ask for it? Ignore this message.',
 'sms_text_ar': 'رمز الانضمام إلى النادي لدى {{ partner }}: {{ confirmation_code }} (صالح لمدة {{ code_minutes }} '
                'دقائق). لم تطلبه؟ تجاهل هذه الرسالة.',
 'sms_text_en': 'Your club enrolment code for {{ partner }}: {{ confirmation_code }} (valid {{ code_minutes }} '
                'minutes). Did not ask for it? Ignore this message.',
 'sms_text_fa': 'کد عضویت باشگاه برای {{ partner }}: {{ confirmation_code }} (معتبر تا {{ code_minutes }} دقیقه). '
                'درخواست نداده\u200cاید؟ این پیام را نادیده بگیرید.',
 'subject': 'Your club enrolment code: {{ confirmation_code }}',
 'subject_ar': 'رمز انضمامك إلى النادي: {{ confirmation_code }}',
 'subject_b': '',
 'subject_en': 'Your club enrolment code: {{ confirmation_code }}',
 'subject_fa': 'کد عضویت شما در باشگاه: {{ confirmation_code }}'}


def create_enrol_code_automation(apps, schema_editor) -> None:
    Automation = apps.get_model("campaigns", "Automation")
    if not Automation.objects.filter(kind="enrol_code").exists():
        Automation.objects.create(**ENROL_CODE)


def remove_enrol_code_automation(apps, schema_editor) -> None:
    apps.get_model("campaigns", "Automation").objects.filter(kind="enrol_code", messages__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0016_automation_public_id'),
    ]

    operations = [
        migrations.AlterField(
            model_name='automation',
            name='kind',
            field=models.CharField(choices=[('win_back', 'Win-back'), ('replenishment', 'Replenishment reminder'), ('post_purchase', 'Post-purchase thank-you'), ('survey_invitation', 'Survey invitation (not about an order)'), ('welcome', 'Welcome to the club'), ('points_expiring', 'Points expiry warning'), ('birthday', 'Birthday'), ('return_update', 'Return updates'), ('enrol_code', 'Club enrolment code')], max_length=20, verbose_name='kind'),
        ),
        migrations.RunPython(create_enrol_code_automation, remove_enrol_code_automation),
    ]
