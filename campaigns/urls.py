from django.urls import path

from campaigns import views

app_name = "campaigns"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("o/<str:token>/", views.open_pixel, name="open"),
    path("k/<str:token>/", views.click, name="click"),
    path("sms/<slug:provider>/<str:token>/delivery/", views.sms_delivery, name="sms_delivery"),
]
