from django.urls import path

from club import views_card

app_name = "club_card"
urlpatterns = [
    path("<str:token>/", views_card.card, name="card"),
    path("<str:token>/redeem/<int:offer_id>/", views_card.redeem, name="redeem"),
]
