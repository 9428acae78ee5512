"""The fixed material of the demo data: catalogue, markets, phone plans, seasons, conversation topics."""

from datetime import date

from core import roles

HISTORY_DAYS = 730
CONSENT_SOURCE = "seed"
ORDER_PREFIX = "D-"
CUSTOMER_PREFIX = "C"

# sku, name, category, price in cents, replenishment days
CATALOGUE: list[tuple[str, str, str, int, int | None]] = [
    ("CF-ESP-250", "Espresso Roast beans 250 g", "coffee", 1290, 30),
    ("CF-ESP-1K", "Espresso Roast beans 1 kg", "coffee", 3990, 60),
    ("CF-ETH-250", "Ethiopia Yirgacheffe beans 250 g", "coffee", 1590, 30),
    ("CF-COL-250", "Colombia Huila beans 250 g", "coffee", 1450, 30),
    ("CF-BRA-250", "Brazil Santos beans 250 g", "coffee", 1190, 30),
    ("CF-DEC-250", "Decaf Swiss Water beans 250 g", "coffee", 1390, 30),
    ("CF-HOU-500", "House Blend ground 500 g", "coffee", 1790, 30),
    ("CF-TUR-250", "Turkish coffee, extra fine 250 g", "coffee", 990, 30),
    ("CF-ARB-250", "Arabic coffee with cardamom 250 g", "coffee", 1190, 30),
    ("CF-CAP-10", "Lungo capsules x10", "coffee", 590, 20),
    ("CF-CAP-50", "Espresso capsules x50", "coffee", 2490, 45),
    ("CF-CBR-1L", "Cold brew concentrate 1 L", "coffee", 1290, 14),
    ("TE-EGR-100", "Earl Grey loose leaf 100 g", "tea", 890, 45),
    ("TE-ENG-100", "English Breakfast loose leaf 100 g", "tea", 790, 45),
    ("TE-LAH-500", "Lahijan black tea 500 g (چای لاهیجان)", "tea", 1490, 45),
    ("TE-SAF-50", "Saffron tea blend 50 g (چای زعفرانی)", "tea", 1290, 45),
    ("TE-SEN-100", "Sencha green tea 100 g", "tea", 1090, 45),
    ("TE-MNT-50", "Moroccan mint tea 50 g", "tea", 690, 45),
    ("TE-CHA-200", "Masala chai 200 g", "tea", 990, 45),
    ("TE-HIB-100", "Hibiscus infusion 100 g", "tea", 690, 45),
    ("TE-KAR-20", "Karak tea sachets x20", "tea", 590, 30),
    ("CH-D70-100", "Dark chocolate 70% 100 g", "chocolate", 450, None),
    ("CH-D85-100", "Dark chocolate 85% 100 g", "chocolate", 490, None),
    ("CH-HAZ-100", "Milk chocolate with hazelnuts 100 g", "chocolate", 420, None),
    ("CH-PRL-16", "Praline box, 16 pieces", "chocolate", 2490, None),
    ("CH-DAT-250", "Chocolate-covered dates 250 g", "chocolate", 1690, None),
    ("CH-PIS-200", "Pistachio chocolate bark 200 g", "chocolate", 1390, None),
    ("CH-HOT-300", "Hot chocolate powder 300 g", "chocolate", 890, 60),
    ("BK-CRO-4", "Butter croissants x4", "bakery", 690, None),
    ("BK-SOU-1", "Sourdough loaf", "bakery", 650, 7),
    ("BK-MAA-12", "Date ma'amoul x12", "bakery", 1190, None),
    ("BK-KLE-10", "Kleicha cookies x10", "bakery", 890, None),
    ("BK-GAZ-250", "Gaz, Isfahan nougat 250 g (گز اصفهان)", "bakery", 1490, None),
    ("BK-SOH-200", "Sohan saffron brittle 200 g (سوهان)", "bakery", 1290, None),
    ("BK-BAN-6", "Banana bread slices x6", "bakery", 790, None),
    ("BK-CIN-4", "Cinnamon rolls x4", "bakery", 890, None),
    ("SN-PIS-250", "Roasted pistachios 250 g", "snacks", 1290, None),
    ("SN-ALM-250", "Smoked almonds 250 g", "snacks", 990, None),
    ("SN-MDJ-500", "Medjool dates 500 g", "snacks", 1490, 30),
    ("SN-FIG-250", "Dried figs 250 g", "snacks", 890, None),
    ("SN-GRA-400", "Honey granola 400 g", "snacks", 790, 30),
    ("SN-BIS-200", "Almond biscotti 200 g", "snacks", 690, None),
    ("KW-V60-02", "Pour-over dripper V60", "kitchenware", 2490, None),
    ("KW-FIL-100", "Paper filters x100", "kitchenware", 590, 60),
    ("KW-FRP-1L", "French press 1 L", "kitchenware", 3490, None),
    ("KW-GRD-MAN", "Manual burr grinder", "kitchenware", 5990, None),
    ("KW-MOK-6", "Stovetop moka pot, 6 cups", "kitchenware", 3290, None),
    ("KW-KET-GN", "Gooseneck kettle", "kitchenware", 5490, None),
    ("KW-SCL-01", "Coffee scale with timer", "kitchenware", 2990, None),
    ("KW-CUP-2", "Double-wall glass cups x2", "kitchenware", 1990, None),
    ("KW-DLH-01", "Dallah Arabic coffee pot", "kitchenware", 3990, None),
    ("KW-SAM-01", "Electric samovar", "kitchenware", 8990, None),
    ("KW-DES-8", "Descaling tablets x8", "kitchenware", 890, 90),
    ("GF-SUB-3M", "Coffee subscription, 3 months", "gifts", 5990, None),
    ("GF-BOX-TAS", "Tasting gift box", "gifts", 3990, None),
    ("GF-HAM-XL", "Holiday hamper", "gifts", 8990, None),
    ("GF-CRD-25", "Gift card 25", "gifts", 2500, None),
    ("GF-CRD-50", "Gift card 50", "gifts", 5000, None),
    ("GF-NWZ-01", "Nowruz gift box (جعبه هدیه نوروز)", "gifts", 4990, None),
    ("GF-RAM-01", "Ramadan dates and coffee set", "gifts", 4490, None),
    ("GF-MUG-01", "Logo mug", "gifts", 1290, None),
    ("SY-VAN-750", "Vanilla syrup 750 ml", "syrups", 990, 60),
    ("SY-CAR-750", "Caramel syrup 750 ml", "syrups", 990, 60),
    ("SY-ROS-250", "Rosewater syrup 250 ml", "syrups", 790, None),
]
# Off sale: still in old orders, never recommended (Product.is_active false).
DISCONTINUED = {"CF-DEC-250", "BK-BAN-6", "SY-ROS-250", "KW-SCL-01"}
SHOP_URL = "https://shop.example.com/p/{sku}"

# Tastes: products that go together. Each customer has one or two (weighted), and most of their
# lines come from them, so buying the first products of a taste predicts the rest; the main category
# of each is the customer's favourite (tags). Replenishable products are bought again about when they run out.
AFFINITY_GROUPS: list[tuple[str, str, int, list[str]]] = [
    # name, main category, weight, skus
    ("pour-over", "coffee", 10, ["CF-ETH-250", "KW-V60-02", "KW-FIL-100", "KW-KET-GN", "KW-SCL-01", "CF-COL-250"]),
    ("home espresso", "coffee", 10, ["CF-ESP-250", "CF-ESP-1K", "KW-GRD-MAN", "SY-VAN-750", "SY-CAR-750", "KW-DES-8"]),
    ("moka", "coffee", 7, ["CF-BRA-250", "KW-MOK-6", "KW-CUP-2", "SN-BIS-200"]),
    ("french press", "coffee", 6, ["CF-HOU-500", "KW-FRP-1L", "CF-DEC-250", "BK-CIN-4"]),
    ("capsules", "coffee", 7, ["CF-CAP-10", "CF-CAP-50", "CH-D70-100", "CF-CBR-1L"]),
    ("arabic coffee", "coffee", 6, ["CF-ARB-250", "KW-DLH-01", "SN-MDJ-500", "BK-MAA-12", "CF-TUR-250"]),
    ("persian tea", "tea", 9, ["TE-LAH-500", "TE-SAF-50", "KW-SAM-01", "BK-GAZ-250", "BK-SOH-200"]),
    ("english tea", "tea", 6, ["TE-EGR-100", "TE-ENG-100", "BK-CRO-4", "BK-KLE-10"]),
    ("wellness tea", "tea", 5, ["TE-SEN-100", "TE-HIB-100", "TE-MNT-50", "SN-GRA-400", "SN-FIG-250"]),
    ("chai", "tea", 4, ["TE-CHA-200", "TE-KAR-20", "BK-BAN-6", "SY-ROS-250"]),
    ("chocolate", "chocolate", 7, ["CH-D85-100", "CH-HAZ-100", "CH-PIS-200", "CH-HOT-300", "CH-DAT-250"]),
    ("bakery", "bakery", 5, ["BK-SOU-1", "BK-CRO-4", "BK-CIN-4", "SN-ALM-250"]),
    ("snacks", "snacks", 5, ["SN-PIS-250", "SN-ALM-250", "SN-FIG-250", "SN-MDJ-500"]),
    ("gifts", "gifts", 4, ["GF-BOX-TAS", "CH-PRL-16", "GF-MUG-01", "GF-HAM-XL", "GF-SUB-3M"]),
    ("festive gifts", "gifts", 3, ["GF-NWZ-01", "GF-RAM-01", "GF-CRD-50", "GF-CRD-25", "CH-DAT-250"]),
]
TASTE_SHARE = 0.75  # of lines drawn from the customer's tastes (the rest: any category, by its weight)
REPLENISH_CHANCE = 0.7  # a replenishable product is bought again when at least 0.8 of its interval has passed

CATEGORY_WEIGHTS = {
    "coffee": 38, "tea": 22, "chocolate": 10, "bakery": 9, "snacks": 8, "kitchenware": 6, "gifts": 5, "syrups": 2,
}

TAGS = ["vip", "wholesale", "newsletter", "corporate", "coffee-lover", "tea-lover", "gift-buyer", "influencer"]

# language -> [(country, [cities, the big ones twice], Faker locale)], one market picked at random
MARKETS: dict[str, list[tuple[str, list[str], str]]] = {
    "fa": [("IR", ["Tehran", "Tehran", "Tehran", "Isfahan", "Shiraz", "Mashhad", "Tabriz", "Karaj", "Rasht"], "fa_IR")],
    "ar": [
        ("AE", ["Dubai", "Dubai", "Abu Dhabi", "Sharjah", "Al Ain"], "ar_SA"),
        ("SA", ["Riyadh", "Riyadh", "Jeddah", "Dammam", "Mecca", "Medina"], "ar_SA"),
    ],
    "en": [
        ("GB", ["London", "London", "Manchester", "Birmingham", "Leeds", "Bristol", "Edinburgh"], "en_GB"),
        ("US", ["New York", "New York", "Los Angeles", "Chicago", "Houston", "Seattle", "Boston"], "en_US"),
    ],
}
LANGUAGE_WEIGHTS = {"fa": 45, "ar": 30, "en": 25}
LOCALES = ["fa_IR", "ar_SA", "en_GB", "en_US"]

# Mobile ranges that libphonenumber accepts as valid for each country (E.164 without +).
PHONE_PLANS: dict[str, tuple[str, list[str], int]] = {
    # country: (country code, national prefixes, digits after the prefix)
    "IR": ("98", ["912", "913", "919", "901", "902", "935", "936", "937", "938", "939", "990", "991"], 7),
    "AE": ("971", ["50", "52", "54", "55", "56", "58"], 7),
    "SA": ("966", ["50", "53", "54", "55", "56", "59"], 7),
    "GB": ("44", ["7711", "7723", "7734", "7800", "7815", "7900", "7912", "7961", "7470", "7530"], 6),
    "US": ("1", ["212", "646", "917", "718", "312", "773", "415", "206", "617", "713", "213", "310"], 7),
}
SOURCES = {"store": 35, "web": 25, "instagram": 20, "referral": 12, "partner": 8}
ORDER_CHANNELS = {"store": 45, "online": 30, "app": 18, "phone": 7}
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]
NOTES = [
    "Prefers oat milk.", "Allergic to nuts: no pralines or pistachios.", "Likes a call before delivery.",
    "Buys for the office every month.", "Ask for the back entrance when delivering.",
    "Interested in home barista workshops.", "Prefers light roasts.", "Gift wrap every order, please.",
]

# Profiles of buying behaviour and their weights; what each means is in Generator._order_days.
PROFILES = {"prospect": 10, "one_time": 25, "regular": 30, "lapsed": 22, "new": 13}

DEMO_STAFF = [
    ("support", "Sam", "Support", roles.SUPPORT),
    ("marketing", "Mina", "Marketing", roles.MARKETING),
    ("clubmanager", "Cyrus", "Club", roles.CLUB_MANAGERS),
]
STAFF_WEIGHTS = [8, 1, 1]  # support answers most conversations


def season_weight(day: date) -> float:
    """Relative demand on a day: the year-end holidays and Nowruz (20 March) are busy."""
    weight = 1.0
    if day.month == 12 or (day.month == 11 and day.day >= 15):
        weight += 0.9
    if (day.month == 3 and day.day >= 8) or (day.month == 4 and day.day <= 3):
        weight += 0.8
    if day.month in (7, 8):
        weight -= 0.15  # summer holidays
    return weight


# kind -> (channel choices, direction, {language: (subject, body)}); {order} and {product} are filled in.
INTERACTION_TOPICS: dict[str, tuple[list[str], str, dict[str, tuple[str, str]]]] = {
    "order_status": (["phone", "chat", "email"], "inbound", {
        "en": ("Where is my order {order}?", "Customer asked when order {order} will arrive; checked with the warehouse."),
        "fa": ("سفارش {order} کجاست؟", "مشتری پرسید سفارش {order} کی می‌رسد؛ با انبار هماهنگ شد."),
        "ar": ("أين طلبي {order}؟", "استفسر العميل عن موعد وصول الطلب {order}؛ تم التحقق مع المستودع."),
    }),
    "late_delivery": (["phone", "chat"], "inbound", {
        "en": ("Late delivery of order {order}", "The courier was late; apologised and offered free shipping next time."),
        "fa": ("تأخیر در ارسال سفارش {order}", "پیک تأخیر داشت؛ عذرخواهی شد و ارسال رایگان بعدی پیشنهاد شد."),
        "ar": ("تأخر توصيل الطلب {order}", "تأخر المندوب؛ قدمنا اعتذاراً وشحناً مجانياً في المرة القادمة."),
    }),
    "damaged": (["email", "phone", "social"], "inbound", {
        "en": ("Damaged item in order {order}", "The parcel arrived with a broken item; a replacement was offered."),
        "fa": ("کالای آسیب‌دیده در سفارش {order}", "بسته با یک کالای شکسته رسید؛ تعویض پیشنهاد شد."),
        "ar": ("منتج تالف في الطلب {order}", "وصل الطرد وفيه منتج مكسور؛ تم عرض الاستبدال."),
    }),
    "refund": (["email", "phone"], "inbound", {
        "en": ("Refund request for order {order}", "Customer wants to return part of the order."),
        "fa": ("درخواست بازپرداخت برای سفارش {order}", "مشتری می‌خواهد بخشی از سفارش را برگرداند."),
        "ar": ("طلب استرداد للطلب {order}", "يرغب العميل في إرجاع جزء من الطلب."),
    }),
    "product_question": (["chat", "visit", "social", "email"], "inbound", {
        "en": ("Question about {product}", "Asked about the roast date and grind options."),
        "fa": ("سوال درباره {product}", "درباره تاریخ رُست و نوع آسیاب پرسید."),
        "ar": ("سؤال عن {product}", "سأل عن تاريخ التحميص وخيارات الطحن."),
    }),
    "stock": (["phone", "sms", "chat"], "inbound", {
        "en": ("Is {product} back in stock?", "Promised to call back when the next delivery arrives."),
        "fa": ("{product} دوباره موجود می‌شود؟", "قرار شد با رسیدن محموله بعدی تماس بگیریم."),
        "ar": ("هل سيتوفر {product} مجدداً؟", "وعدنا بالاتصال عند وصول الشحنة القادمة."),
    }),
    "address": (["phone", "email"], "inbound", {
        "en": ("Change of delivery address", "Updated the delivery address for future orders."),
        "fa": ("تغییر آدرس ارسال", "آدرس ارسال برای سفارش‌های بعدی به‌روز شد."),
        "ar": ("تغيير عنوان التوصيل", "تم تحديث عنوان التوصيل للطلبات القادمة."),
    }),
    "thanks": (["social", "email", "visit"], "inbound", {
        "en": ("Thank-you note", "Customer loved the new blend and shared it on social media."),
        "fa": ("پیام تشکر", "مشتری ترکیب جدید را خیلی دوست داشت و در شبکه‌های اجتماعی معرفی کرد."),
        "ar": ("رسالة شكر", "أعجب العميل بالخلطة الجديدة وشاركها على وسائل التواصل."),
    }),
    "wholesale": (["email", "phone"], "inbound", {
        "en": ("Wholesale prices for our office", "Asked for a quote for 20 kg of coffee a month."),
        "fa": ("قیمت عمده برای دفتر کار", "برای ۲۰ کیلو قهوه در ماه پیش‌فاکتور خواست."),
        "ar": ("أسعار الجملة لمكتبنا", "طلب عرض سعر لـ 20 كغ من القهوة شهرياً."),
    }),
    "welcome": (["phone", "sms"], "outbound", {
        "en": ("Welcome call after the first order", "Introduced the customer club and asked about the first order."),
        "fa": ("تماس خوشامدگویی پس از اولین خرید", "باشگاه مشتریان معرفی شد و درباره اولین سفارش سوال شد."),
        "ar": ("مكالمة ترحيب بعد الطلب الأول", "تم التعريف بنادي العملاء والسؤال عن الطلب الأول."),
    }),
    "win_back": (["phone", "email"], "outbound", {
        "en": ("We miss you: check-in call", "Customer has not ordered for a while; invited them to a tasting at the store."),
        "fa": ("دلمان برایتان تنگ شده: تماس پیگیری", "مشتری مدتی است خرید نکرده؛ برای مزه‌کردن قهوه به فروشگاه دعوت شد."),
        "ar": ("اشتقنا إليك: مكالمة متابعة", "لم يطلب العميل منذ فترة؛ تمت دعوته لتذوق القهوة في المتجر."),
    }),
}
ORDER_TOPICS = ["order_status", "late_delivery", "damaged", "refund"]
RECENT_DAYS = 30
FOLLOW_UP_OFFSETS = [-6, -3, -2, -1, 0, 0, 0, 1, 1, 2, 3, 5, 7, 10]
GENERAL_TOPICS = ["product_question", "stock", "address", "thanks", "wholesale"]
