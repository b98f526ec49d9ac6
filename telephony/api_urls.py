from django.urls import path, re_path

from telephony import api

# The reference's paths have no trailing slash; one is accepted too.
urlpatterns = [
    re_path(r"^v2/telephony/connections/?$", api.ConnectionsView.as_view(), name="telephony-connections"),
    path("v2/telephony/connections/<uuid:pk>", api.ConnectionView.as_view(), name="telephony-connection"),
    path("v2/telephony/connections/<uuid:pk>/", api.ConnectionView.as_view()),
    path("v2/telephony/connections/<uuid:pk>/default", api.DefaultConnectionView.as_view(), name="telephony-connection-default"),
    path("v2/telephony/connections/<uuid:pk>/default/", api.DefaultConnectionView.as_view()),
]
