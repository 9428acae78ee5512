"""The automations a new installation starts with, in English, Persian and Arabic.

Created by the migration (campaigns 0002) and editable in the admin. Win-back and
replenishment start disabled (a marketer decides the offer and the timing); the
transactional ones start enabled so that club messages and survey invitations go out.
"""

DEFAULT_AUTOMATIONS = [
    {
        "kind": "win_back", "name": "Win-back", "enabled": False, "days": 60, "cooldown_days": 90,
        "subject": {"en": "We miss you, {{ first_name }}", "fa": "دلمان برایتان تنگ شده، {{ first_name }}",
                    "ar": "اشتقنا إليك يا {{ first_name }}"},
        "subject_b": {"en": "{{ first_name }}, a little something to welcome you back",
                      "fa": "{{ first_name }}، هدیه‌ای کوچک برای بازگشت شما",
                      "ar": "{{ first_name }}، هدية صغيرة بمناسبة عودتك"},
        "body": {
            "en": "<p>Hello {{ first_name }},</p><p>It has been a while since your last visit.{% if coupon_code %} Here is a "
                  "coupon just for you: <strong>{{ coupon_code }}</strong> ({{ offer }}), valid until {{ coupon_expires_on }}."
                  "{% endif %}</p><p>We hope to see you soon!</p>",
            "fa": "<p>سلام {{ first_name }}،</p><p>مدتی است که به ما سر نزده‌اید.{% if coupon_code %} این کد تخفیف مخصوص شماست: "
                  "<strong>{{ coupon_code }}</strong> ({{ offer }})، معتبر تا {{ coupon_expires_on }}.{% endif %}</p>"
                  "<p>به امید دیدار دوباره!</p>",
            "ar": "<p>مرحباً {{ first_name }}،</p><p>لقد مضى وقت منذ زيارتك الأخيرة.{% if coupon_code %} إليك قسيمة خاصة بك: "
                  "<strong>{{ coupon_code }}</strong> ({{ offer }})، صالحة حتى {{ coupon_expires_on }}.{% endif %}</p>"
                  "<p>نأمل أن نراك قريباً!</p>",
        },
        "sms_text": {"en": "{{ first_name }}, we miss you!{% if coupon_code %} Your code: {{ coupon_code }}{% endif %}",
                     "fa": "{{ first_name }}، دلمان برایتان تنگ شده!{% if coupon_code %} کد شما: {{ coupon_code }}{% endif %}",
                     "ar": "{{ first_name }}، اشتقنا إليك!{% if coupon_code %} رمزك: {{ coupon_code }}{% endif %}"},
    },
    {
        "kind": "replenishment", "name": "Replenishment reminder", "enabled": False, "days": 3, "cooldown_days": 7,
        "subject": {"en": "Time to restock, {{ first_name }}?", "fa": "وقت تهیه دوباره است، {{ first_name }}؟",
                    "ar": "حان وقت التجديد يا {{ first_name }}؟"},
        "body": {
            "en": "<p>Hello {{ first_name }},</p><p>You may be running low on {{ products }}. Order again whenever suits you.</p>",
            "fa": "<p>سلام {{ first_name }}،</p><p>احتمالاً {{ products }} شما رو به اتمام است. هر وقت مایل بودید دوباره سفارش دهید.</p>",
            "ar": "<p>مرحباً {{ first_name }}،</p><p>ربما أوشك {{ products }} على النفاد. اطلبه مجدداً متى شئت.</p>",
        },
        "sms_text": {"en": "{{ first_name }}, running low on {{ products }}? Time to restock.",
                     "fa": "{{ first_name }}، {{ products }} شما رو به اتمام است؟ وقت خرید دوباره است.",
                     "ar": "{{ first_name }}، هل أوشك {{ products }} على النفاد؟ حان وقت التجديد."},
    },
    {
        "kind": "post_purchase", "name": "Post-purchase thank-you", "enabled": True, "days": 1, "cooldown_days": 0,
        "subject": {"en": "Thank you for your order {{ order_number }}", "fa": "از سفارش {{ order_number }} شما سپاسگزاریم",
                    "ar": "شكراً لطلبك {{ order_number }}"},
        "body": {
            "en": "<p>Thank you, {{ first_name }}!</p><p>We hope you enjoy your purchase.{% if survey_url %} Could you tell us "
                  "how we did? It takes two minutes: <a href=\"{{ survey_url }}\">{{ survey|default:\"our short survey\" }}</a>"
                  "{% endif %}</p>",
            "fa": "<p>سپاس {{ first_name }}!</p><p>امیدواریم از خرید خود لذت ببرید.{% if survey_url %} لطفاً در دو دقیقه نظرتان را "
                  "به ما بگویید: <a href=\"{{ survey_url }}\">{{ survey|default:\"نظرسنجی کوتاه\" }}</a>{% endif %}</p>",
            "ar": "<p>شكراً يا {{ first_name }}!</p><p>نتمنى أن تستمتع بمشترياتك.{% if survey_url %} هل تخبرنا برأيك؟ يستغرق "
                  "الأمر دقيقتين: <a href=\"{{ survey_url }}\">{{ survey|default:\"استبيان قصير\" }}</a>{% endif %}</p>",
        },
        "sms_text": {"en": "Thank you for your order, {{ first_name }}!{% if survey_url %} Tell us how we did: {{ survey_url }}{% endif %}",
                     "fa": "{{ first_name }}، از سفارش شما سپاسگزاریم!{% if survey_url %} نظرتان: {{ survey_url }}{% endif %}",
                     "ar": "شكراً لطلبك يا {{ first_name }}!{% if survey_url %} رأيك يهمنا: {{ survey_url }}{% endif %}"},
    },
    {
        "kind": "survey_invitation", "name": "Survey invitation", "enabled": True, "days": 0, "cooldown_days": 0,
        "subject": {"en": "How did we do, {{ first_name }}?", "fa": "{{ first_name }}، نظرتان درباره ما چیست؟",
                    "ar": "{{ first_name }}، ما رأيك في خدمتنا؟"},
        "body": {
            "en": "<p>Hello {{ first_name }},</p><p>Could you spare two minutes to tell us how we did? "
                  "<a href=\"{{ survey_url }}\">{{ survey|default:\"Answer the survey\" }}</a></p>",
            "fa": "<p>سلام {{ first_name }}،</p><p>لطفاً در دو دقیقه به ما بگویید کارمان چطور بود: "
                  "<a href=\"{{ survey_url }}\">{{ survey|default:\"پاسخ به نظرسنجی\" }}</a></p>",
            "ar": "<p>مرحباً {{ first_name }}،</p><p>هل يمكنك أن تخبرنا في دقيقتين عن رأيك في خدمتنا؟ "
                  "<a href=\"{{ survey_url }}\">{{ survey|default:\"أجب عن الاستبيان\" }}</a></p>",
        },
        "sms_text": {"en": "{{ first_name }}, how did we do? {{ survey_url }}", "fa": "{{ first_name }}، نظر شما درباره ما: {{ survey_url }}",
                     "ar": "{{ first_name }}، ما رأيك في خدمتنا؟ {{ survey_url }}"},
    },
    {
        "kind": "welcome", "name": "Welcome to the club", "enabled": True, "days": 0, "cooldown_days": 0,
        "subject": {"en": "Welcome to the club, {{ first_name }}!", "fa": "{{ first_name }}، به باشگاه مشتریان خوش آمدید!",
                    "ar": "أهلاً بك في النادي يا {{ first_name }}!"},
        "body": {
            "en": "<p>Welcome, {{ first_name }}!</p><p>Your member number is <strong>{{ member_number }}</strong>{% if tier %} "
                  "and your tier is {{ tier }}{% endif %}. You have {{ points_balance }} points.</p>",
            "fa": "<p>خوش آمدید {{ first_name }}!</p><p>شماره عضویت شما <strong>{{ member_number }}</strong> است{% if tier %} "
                  "و سطح شما {{ tier }}{% endif %}. امتیاز شما: {{ points_balance }}.</p>",
            "ar": "<p>أهلاً بك يا {{ first_name }}!</p><p>رقم عضويتك <strong>{{ member_number }}</strong>{% if tier %} "
                  "ومستواك {{ tier }}{% endif %}. رصيد نقاطك: {{ points_balance }}.</p>",
        },
        "sms_text": {"en": "Welcome to the club, {{ first_name }}! Member number: {{ member_number }}",
                     "fa": "{{ first_name }}، به باشگاه خوش آمدید! شماره عضویت: {{ member_number }}",
                     "ar": "أهلاً بك في النادي يا {{ first_name }}! رقم العضوية: {{ member_number }}"},
    },
    {
        "kind": "points_expiring", "name": "Points expiry warning", "enabled": True, "days": 0, "cooldown_days": 0,
        "subject": {"en": "{{ points }} of your points expire soon", "fa": "{{ points }} امتیاز شما به‌زودی منقضی می‌شود",
                    "ar": "{{ points }} من نقاطك ستنتهي صلاحيتها قريباً"},
        "body": {
            "en": "<p>Hello {{ first_name }},</p><p>{{ points }} points expire on {{ expires_on }}. Use them before then: "
                  "your balance is {{ points_balance }} points.</p>",
            "fa": "<p>سلام {{ first_name }}،</p><p>{{ points }} امتیاز شما در تاریخ {{ expires_on }} منقضی می‌شود. پیش از آن "
                  "از آن‌ها استفاده کنید؛ موجودی شما {{ points_balance }} امتیاز است.</p>",
            "ar": "<p>مرحباً {{ first_name }}،</p><p>تنتهي صلاحية {{ points }} نقطة في {{ expires_on }}. استخدمها قبل ذلك؛ "
                  "رصيدك {{ points_balance }} نقطة.</p>",
        },
        "sms_text": {"en": "{{ first_name }}, {{ points }} points expire on {{ expires_on }}. Use them soon!",
                     "fa": "{{ first_name }}، {{ points }} امتیاز شما در {{ expires_on }} منقضی می‌شود.",
                     "ar": "{{ first_name }}، تنتهي صلاحية {{ points }} نقطة في {{ expires_on }}."},
    },
    {
        "kind": "birthday", "name": "Birthday", "enabled": True, "days": 0, "cooldown_days": 0,
        "subject": {"en": "Happy birthday, {{ first_name }}!", "fa": "تولدتان مبارک، {{ first_name }}!",
                    "ar": "عيد ميلاد سعيد يا {{ first_name }}!"},
        "body": {
            "en": "<p>Happy birthday, {{ first_name }}!</p><p>{% if coupon_code %}Your birthday gift: <strong>{{ coupon_code }}"
                  "</strong>.{% endif %}{% if points %} We added {{ points }} points to your card.{% endif %}</p>",
            "fa": "<p>تولدتان مبارک {{ first_name }}!</p><p>{% if coupon_code %}هدیه تولد شما: <strong>{{ coupon_code }}</strong>."
                  "{% endif %}{% if points %} {{ points }} امتیاز به کارت شما اضافه شد.{% endif %}</p>",
            "ar": "<p>عيد ميلاد سعيد يا {{ first_name }}!</p><p>{% if coupon_code %}هديتك: <strong>{{ coupon_code }}</strong>."
                  "{% endif %}{% if points %} أضفنا {{ points }} نقطة إلى بطاقتك.{% endif %}</p>",
        },
        "sms_text": {"en": "Happy birthday, {{ first_name }}!{% if coupon_code %} Your gift code: {{ coupon_code }}{% endif %}",
                     "fa": "{{ first_name }}، تولدتان مبارک!{% if coupon_code %} کد هدیه: {{ coupon_code }}{% endif %}",
                     "ar": "عيد ميلاد سعيد يا {{ first_name }}!{% if coupon_code %} رمز هديتك: {{ coupon_code }}{% endif %}"},
    },
    {
        # Transactional: one message per state change of a return (requested, approved, ...), in the customer's language.
        # The order number is a left-to-right island (<bdi dir="ltr"> in HTML, U+2066/U+2069 in plain right-to-left text).
        "kind": "return_update", "name": "Return updates", "enabled": True, "days": 0, "cooldown_days": 0,
        "subject": {"en": "Your return of order {{ order_number }}",
                    "fa": "مرجوعی سفارش {{ order_number }} شما",
                    "ar": "إرجاع طلبك {{ order_number }}"},
        "body": {
            "en": "<p>Hello {{ first_name }},</p><p>"
                  "{% if return_state == \"requested\" %}We have received your request to return items from order "
                  "<bdi dir=\"ltr\">{{ order_number }}</bdi>. We will let you know when it is approved."
                  "{% elif return_state == \"approved\" %}Your return of order <bdi dir=\"ltr\">{{ order_number }}</bdi> is "
                  "approved. Please send the items back to us; we will let you know when they arrive."
                  "{% elif return_state == \"rejected\" %}We are sorry: your return of order <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi> could not be approved. Please contact us if you have any questions."
                  "{% elif return_state == \"received\" %}The items you returned from order <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi> have arrived. We will let you know when your return is settled."
                  "{% elif return_state == \"refunded\" %}Your refund for the return of order <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi> has been issued."
                  "{% elif return_state == \"exchanged\" %}The exchange for your return of order <bdi dir=\"ltr\">"
                  "{{ order_number }}</bdi> is on its way."
                  "{% elif return_state == \"credited\" %}Store credit for your return of order <bdi dir=\"ltr\">"
                  "{{ order_number }}</bdi> has been added to your club account."
                  "{% else %}Your return of order <bdi dir=\"ltr\">{{ order_number }}</bdi> is closed. Thank you.{% endif %}</p>",
            "fa": "<p>سلام {{ first_name }}،</p><p>"
                  "{% if return_state == \"requested\" %}درخواست مرجوعی شما برای سفارش <bdi dir=\"ltr\">{{ order_number }}</bdi> "
                  "را دریافت کردیم. پس از تأیید به شما خبر می‌دهیم."
                  "{% elif return_state == \"approved\" %}مرجوعی سفارش <bdi dir=\"ltr\">{{ order_number }}</bdi> شما تأیید شد. "
                  "لطفاً کالاها را برای ما بفرستید؛ هنگام رسیدن آن‌ها به شما خبر می‌دهیم."
                  "{% elif return_state == \"rejected\" %}متأسفیم: مرجوعی سفارش <bdi dir=\"ltr\">{{ order_number }}</bdi> شما "
                  "تأیید نشد. اگر پرسشی دارید با ما تماس بگیرید."
                  "{% elif return_state == \"received\" %}کالاهای مرجوعی سفارش <bdi dir=\"ltr\">{{ order_number }}</bdi> به دست "
                  "ما رسید. پس از تسویه به شما خبر می‌دهیم."
                  "{% elif return_state == \"refunded\" %}مبلغ مرجوعی سفارش <bdi dir=\"ltr\">{{ order_number }}</bdi> به شما "
                  "بازپرداخت شد."
                  "{% elif return_state == \"exchanged\" %}کالای جایگزین برای مرجوعی سفارش <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi> در راه است."
                  "{% elif return_state == \"credited\" %}اعتبار خرید برای مرجوعی سفارش <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi> به حساب باشگاه شما افزوده شد."
                  "{% else %}پرونده مرجوعی سفارش <bdi dir=\"ltr\">{{ order_number }}</bdi> بسته شد. سپاسگزاریم.{% endif %}</p>",
            "ar": "<p>مرحباً {{ first_name }}،</p><p>"
                  "{% if return_state == \"requested\" %}استلمنا طلب إرجاع منتجات من الطلب <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi>. سنبلغك عند الموافقة عليه."
                  "{% elif return_state == \"approved\" %}تمت الموافقة على إرجاع الطلب <bdi dir=\"ltr\">{{ order_number }}</bdi>. "
                  "يرجى إرسال المنتجات إلينا؛ سنبلغك عند وصولها."
                  "{% elif return_state == \"rejected\" %}نأسف: تعذّرت الموافقة على إرجاع الطلب <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi>. تواصل معنا إن كانت لديك أي أسئلة."
                  "{% elif return_state == \"received\" %}وصلتنا المنتجات المرتجعة من الطلب <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi>. سنبلغك عند تسوية الإرجاع."
                  "{% elif return_state == \"refunded\" %}تم ردّ المبلغ عن إرجاع الطلب <bdi dir=\"ltr\">{{ order_number }}</bdi>."
                  "{% elif return_state == \"exchanged\" %}المنتج البديل عن إرجاع الطلب <bdi dir=\"ltr\">{{ order_number }}</bdi> "
                  "في الطريق إليك."
                  "{% elif return_state == \"credited\" %}أضفنا رصيد شراء عن إرجاع الطلب <bdi dir=\"ltr\">{{ order_number }}"
                  "</bdi> إلى حسابك في النادي."
                  "{% else %}أُغلق إرجاع الطلب <bdi dir=\"ltr\">{{ order_number }}</bdi>. شكراً لك.{% endif %}</p>",
        },
        "sms_text": {
            "en": "Return of order {{ order_number }}: {% if return_state == \"requested\" %}request received{% elif return_state == "
                  "\"approved\" %}approved, please send the items back{% elif return_state == \"rejected\" %}not approved"
                  "{% elif return_state == \"received\" %}items arrived{% elif return_state == \"refunded\" %}refund issued"
                  "{% elif return_state == \"exchanged\" %}exchange on its way{% elif return_state == \"credited\" %}store credit "
                  "added{% else %}closed{% endif %}.",
            "fa": "مرجوعی سفارش {{ order_number }}: {% if return_state == \"requested\" %}درخواست دریافت شد"
                  "{% elif return_state == \"approved\" %}تأیید شد، لطفاً کالاها را بفرستید{% elif return_state == \"rejected\" %}"
                  "تأیید نشد{% elif return_state == \"received\" %}کالاها رسید{% elif return_state == \"refunded\" %}مبلغ "
                  "بازپرداخت شد{% elif return_state == \"exchanged\" %}کالای جایگزین در راه است{% elif return_state == "
                  "\"credited\" %}اعتبار خرید افزوده شد{% else %}بسته شد{% endif %}.",
            "ar": "إرجاع الطلب {{ order_number }}: {% if return_state == \"requested\" %}استلمنا الطلب"
                  "{% elif return_state == \"approved\" %}تمت الموافقة، يرجى إرسال المنتجات{% elif return_state == \"rejected\" %}"
                  "لم تتم الموافقة{% elif return_state == \"received\" %}وصلت المنتجات{% elif return_state == \"refunded\" %}"
                  "تم ردّ المبلغ{% elif return_state == \"exchanged\" %}البديل في الطريق{% elif return_state == \"credited\" %}"
                  "أُضيف رصيد الشراء{% else %}أُغلق{% endif %}.",
        },
    },
    {
        # Addressed (Automation.ADDRESSED_KINDS): the one-time code of a club enrolment an API partner asked for, sent to
        # the phone or email the partner gave, with nothing of the customer's record in it (no name).
        "kind": "enrol_code", "name": "Club enrolment code", "enabled": True, "days": 0, "cooldown_days": 0,
        "subject": {"en": "Your club enrolment code: {{ confirmation_code }}",
                    "fa": "کد عضویت شما در باشگاه: {{ confirmation_code }}",
                    "ar": "رمز انضمامك إلى النادي: {{ confirmation_code }}"},
        "body": {
            "en": "<p>{{ partner }} asked to enrol you in our club. Your confirmation code is "
                  "<strong>{{ confirmation_code }}</strong>; it is valid for {{ code_minutes }} minutes.</p>"
                  "<p>If you did not ask for this, ignore this message: nothing happens without the code.</p>",
            "fa": "<p>{{ partner }} درخواست عضویت شما در باشگاه ما را داده است. کد تأیید شما "
                  "<strong>{{ confirmation_code }}</strong> است و تا {{ code_minutes }} دقیقه معتبر است.</p>"
                  "<p>اگر چنین درخواستی نداده‌اید، این پیام را نادیده بگیرید: بدون این کد کاری انجام نمی‌شود.</p>",
            "ar": "<p>طلب {{ partner }} تسجيلك في نادينا. رمز التأكيد الخاص بك هو "
                  "<strong>{{ confirmation_code }}</strong>، وهو صالح لمدة {{ code_minutes }} دقائق.</p>"
                  "<p>إذا لم تطلب ذلك فتجاهل هذه الرسالة: لا يحدث شيء دون الرمز.</p>",
        },
        "sms_text": {
            "en": "Your club enrolment code for {{ partner }}: {{ confirmation_code }} (valid {{ code_minutes }} minutes). "
                  "Did not ask for it? Ignore this message.",
            "fa": "کد عضویت باشگاه برای {{ partner }}: {{ confirmation_code }} (معتبر تا {{ code_minutes }} دقیقه). "
                  "درخواست نداده‌اید؟ این پیام را نادیده بگیرید.",
            "ar": "رمز الانضمام إلى النادي لدى {{ partner }}: {{ confirmation_code }} (صالح لمدة {{ code_minutes }} دقائق). "
                  "لم تطلبه؟ تجاهل هذه الرسالة.",
        },
    },
]

TRANSLATED = ("subject", "subject_b", "body", "sms_text")


def automation_fields(spec: dict) -> dict:
    """Model field values (with the per-language columns) for one entry of DEFAULT_AUTOMATIONS."""
    values = {key: spec[key] for key in ("kind", "name", "enabled", "days", "cooldown_days")}
    values["channel"] = "preferred"
    for field in TRANSLATED:
        texts = spec.get(field, {})
        values[field] = texts.get("en", "")
        for language, text in texts.items():
            values[f"{field}_{language}"] = text
    return values
