from django.urls import path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("s/<slug:slug>/", views.public_survey, name="public"),
    path("thanks/<int:survey_id>/", views.thanks, name="thanks"),
    path("<str:token>/", views.invitation, name="invitation"),
]
