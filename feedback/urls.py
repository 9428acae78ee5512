from django.urls import path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("s/<slug:slug>/", views.public_survey, name="public"),
    path("l/<str:token>/", views.survey_link, name="survey_link"),
    path("thanks/<int:survey_id>/", views.thanks, name="thanks"),
    path("<str:token>/", views.invitation, name="invitation"),
]
