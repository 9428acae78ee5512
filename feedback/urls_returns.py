from django.urls import path

from feedback import views_returns

app_name = "returns"
urlpatterns = [
    path("<str:token>/", views_returns.request_return, name="request"),
    path("<str:token>/done/", views_returns.return_done, name="done"),
]
