"""Return updates: a transactional automation that tells the customer of each state change of
their return, created enabled with its English, Persian and Arabic texts."""

from django.db import migrations, models


# A frozen copy of campaigns.defaults' "return_update" entry (a migration imports no project module).
RETURN_UPDATE = {'kind': 'return_update',
 'name': 'Return updates',
 'enabled': True,
 'days': 0,
 'cooldown_days': 0,
 'channel': 'preferred',
 'subject': 'Your return of order {{ order_number }}',
 'subject_en': 'Your return of order {{ order_number }}',
 'subject_fa': 'مرجوعی سفارش {{ order_number }} شما',
 'subject_ar': 'إرجاع طلبك {{ order_number }}',
 'subject_b': '',
 'body': '<p>Hello {{ first_name }},</p><p>{% if return_state == "requested" %}We have received your request to '
         'return items from order <bdi dir="ltr">{{ order_number }}</bdi>. We will let you know when it is '
         'approved.{% elif return_state == "approved" %}Your return of order <bdi dir="ltr">{{ order_number }}</bdi> '
         'is approved. Please send the items back to us; we will let you know when they arrive.{% elif return_state '
         '== "rejected" %}We are sorry: your return of order <bdi dir="ltr">{{ order_number }}</bdi> could not be '
         'approved. Please contact us if you have any questions.{% elif return_state == "received" %}The items you '
         'returned from order <bdi dir="ltr">{{ order_number }}</bdi> have arrived. We will let you know when your '
         'return is settled.{% elif return_state == "refunded" %}Your refund for the return of order <bdi '
         'dir="ltr">{{ order_number }}</bdi> has been issued.{% elif return_state == "exchanged" %}The exchange for '
         'your return of order <bdi dir="ltr">{{ order_number }}</bdi> is on its way.{% elif return_state == '
         '"credited" %}Store credit for your return of order <bdi dir="ltr">{{ order_number }}</bdi> has been added '
         'to your club account.{% else %}Your return of order <bdi dir="ltr">{{ order_number }}</bdi> is closed. '
         'Thank you.{% endif %}</p>',
 'body_en': '<p>Hello {{ first_name }},</p><p>{% if return_state == "requested" %}We have received your request to '
            'return items from order <bdi dir="ltr">{{ order_number }}</bdi>. We will let you know when it is '
            'approved.{% elif return_state == "approved" %}Your return of order <bdi dir="ltr">{{ order_number '
            '}}</bdi> is approved. Please send the items back to us; we will let you know when they arrive.{% elif '
            'return_state == "rejected" %}We are sorry: your return of order <bdi dir="ltr">{{ order_number }}</bdi> '
            'could not be approved. Please contact us if you have any questions.{% elif return_state == "received" '
            '%}The items you returned from order <bdi dir="ltr">{{ order_number }}</bdi> have arrived. We will let '
            'you know when your return is settled.{% elif return_state == "refunded" %}Your refund for the return of '
            'order <bdi dir="ltr">{{ order_number }}</bdi> has been issued.{% elif return_state == "exchanged" %}The '
            'exchange for your return of order <bdi dir="ltr">{{ order_number }}</bdi> is on its way.{% elif '
            'return_state == "credited" %}Store credit for your return of order <bdi dir="ltr">{{ order_number '
            '}}</bdi> has been added to your club account.{% else %}Your return of order <bdi dir="ltr">{{ '
            'order_number }}</bdi> is closed. Thank you.{% endif %}</p>',
 'body_fa': '<p>سلام {{ first_name }}،</p><p>{% if return_state == "requested" %}درخواست مرجوعی شما برای سفارش <bdi '
            'dir="ltr">{{ order_number }}</bdi> را دریافت کردیم. پس از تأیید به شما خبر می\u200cدهیم.{% elif '
            'return_state == "approved" %}مرجوعی سفارش <bdi dir="ltr">{{ order_number }}</bdi> شما تأیید شد. لطفاً '
            'کالاها را برای ما بفرستید؛ هنگام رسیدن آن\u200cها به شما خبر می\u200cدهیم.{% elif return_state == '
            '"rejected" %}متأسفیم: مرجوعی سفارش <bdi dir="ltr">{{ order_number }}</bdi> شما تأیید نشد. اگر پرسشی '
            'دارید با ما تماس بگیرید.{% elif return_state == "received" %}کالاهای مرجوعی سفارش <bdi dir="ltr">{{ '
            'order_number }}</bdi> به دست ما رسید. پس از تسویه به شما خبر می\u200cدهیم.{% elif return_state == '
            '"refunded" %}مبلغ مرجوعی سفارش <bdi dir="ltr">{{ order_number }}</bdi> به شما بازپرداخت شد.{% elif '
            'return_state == "exchanged" %}کالای جایگزین برای مرجوعی سفارش <bdi dir="ltr">{{ order_number }}</bdi> '
            'در راه است.{% elif return_state == "credited" %}اعتبار خرید برای مرجوعی سفارش <bdi dir="ltr">{{ '
            'order_number }}</bdi> به حساب باشگاه شما افزوده شد.{% else %}پرونده مرجوعی سفارش <bdi dir="ltr">{{ '
            'order_number }}</bdi> بسته شد. سپاسگزاریم.{% endif %}</p>',
 'body_ar': '<p>مرحباً {{ first_name }}،</p><p>{% if return_state == "requested" %}استلمنا طلب إرجاع منتجات من الطلب '
            '<bdi dir="ltr">{{ order_number }}</bdi>. سنبلغك عند الموافقة عليه.{% elif return_state == "approved" '
            '%}تمت الموافقة على إرجاع الطلب <bdi dir="ltr">{{ order_number }}</bdi>. يرجى إرسال المنتجات إلينا؛ '
            'سنبلغك عند وصولها.{% elif return_state == "rejected" %}نأسف: تعذّرت الموافقة على إرجاع الطلب <bdi '
            'dir="ltr">{{ order_number }}</bdi>. تواصل معنا إن كانت لديك أي أسئلة.{% elif return_state == "received" '
            '%}وصلتنا المنتجات المرتجعة من الطلب <bdi dir="ltr">{{ order_number }}</bdi>. سنبلغك عند تسوية '
            'الإرجاع.{% elif return_state == "refunded" %}تم ردّ المبلغ عن إرجاع الطلب <bdi dir="ltr">{{ '
            'order_number }}</bdi>.{% elif return_state == "exchanged" %}المنتج البديل عن إرجاع الطلب <bdi '
            'dir="ltr">{{ order_number }}</bdi> في الطريق إليك.{% elif return_state == "credited" %}أضفنا رصيد شراء '
            'عن إرجاع الطلب <bdi dir="ltr">{{ order_number }}</bdi> إلى حسابك في النادي.{% else %}أُغلق إرجاع الطلب '
            '<bdi dir="ltr">{{ order_number }}</bdi>. شكراً لك.{% endif %}</p>',
 'sms_text': 'Return of order {{ order_number }}: {% if return_state == "requested" %}request received{% elif '
             'return_state == "approved" %}approved, please send the items back{% elif return_state == "rejected" '
             '%}not approved{% elif return_state == "received" %}items arrived{% elif return_state == "refunded" '
             '%}refund issued{% elif return_state == "exchanged" %}exchange on its way{% elif return_state == '
             '"credited" %}store credit added{% else %}closed{% endif %}.',
 'sms_text_en': 'Return of order {{ order_number }}: {% if return_state == "requested" %}request received{% elif '
                'return_state == "approved" %}approved, please send the items back{% elif return_state == "rejected" '
                '%}not approved{% elif return_state == "received" %}items arrived{% elif return_state == "refunded" '
                '%}refund issued{% elif return_state == "exchanged" %}exchange on its way{% elif return_state == '
                '"credited" %}store credit added{% else %}closed{% endif %}.',
 'sms_text_fa': 'مرجوعی سفارش {{ order_number }}: {% if return_state == "requested" %}درخواست دریافت '
                'شد{% elif return_state == "approved" %}تأیید شد، لطفاً کالاها را بفرستید{% elif return_state == '
                '"rejected" %}تأیید نشد{% elif return_state == "received" %}کالاها رسید{% elif return_state == '
                '"refunded" %}مبلغ بازپرداخت شد{% elif return_state == "exchanged" %}کالای جایگزین در راه است{% elif '
                'return_state == "credited" %}اعتبار خرید افزوده شد{% else %}بسته شد{% endif %}.',
 'sms_text_ar': 'إرجاع الطلب {{ order_number }}: {% if return_state == "requested" %}استلمنا الطلب{% '
                'elif return_state == "approved" %}تمت الموافقة، يرجى إرسال المنتجات{% elif return_state == '
                '"rejected" %}لم تتم الموافقة{% elif return_state == "received" %}وصلت المنتجات{% elif return_state '
                '== "refunded" %}تم ردّ المبلغ{% elif return_state == "exchanged" %}البديل في الطريق{% elif '
                'return_state == "credited" %}أُضيف رصيد الشراء{% else %}أُغلق{% endif %}.'}


def create_return_update_automation(apps, schema_editor) -> None:
    Automation = apps.get_model("campaigns", "Automation")
    if not Automation.objects.filter(kind="return_update").exists():
        Automation.objects.create(**RETURN_UPDATE)


def remove_return_update_automation(apps, schema_editor) -> None:
    apps.get_model("campaigns", "Automation").objects.filter(kind="return_update", messages__isnull=True).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0009_offer_recipients'),
    ]

    operations = [
        migrations.AlterField(
            model_name='automation',
            name='kind',
            field=models.CharField(choices=[('win_back', 'Win-back'), ('replenishment', 'Replenishment reminder'), ('post_purchase', 'Post-purchase thank-you'), ('survey_invitation', 'Survey invitation (not about an order)'), ('welcome', 'Welcome to the club'), ('points_expiring', 'Points expiry warning'), ('birthday', 'Birthday'), ('return_update', 'Return updates')], max_length=20, verbose_name='kind'),
        ),
        migrations.RunPython(create_return_update_automation, remove_return_update_automation),
    ]
