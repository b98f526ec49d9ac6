from django.urls import path

from imports import views

app_name = "imports"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("<int:pk>/questions/", views.questions, name="questions"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/failed-lines.csv", views.failures, name="failures"),
]
