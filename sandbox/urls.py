from django.urls import path

from sandbox import api, views

app_name = "sandbox"
urlpatterns = [
    path("", views.customer_page, name="customer"),
    path("send/", views.customer_send, name="send"),
    # The fake Tata omni API (public like Tata's: the channel's access token authenticates).
    path("api/tata/whatsapp-cloud/messages", api.whatsapp_messages, name="wa_messages"),
    path("api/tata/whatsapp-cloud/media", api.media_upload, name="media_upload"),
    path("api/tata/whatsapp-cloud/media/handle", api.media_upload, {"handle": True}, name="media_handle"),
    path("api/tata/whatsapp-cloud/media/download/<str:media_id>", api.media_download, name="media_download"),
    path("api/tata/whatsapp-cloud/media/<str:media_id>", api.media_delete, name="media_delete"),
    path("api/tata/templates", api.templates, name="templates"),
    path("api/tata/templates/insights", api.template_insights, name="template_insights"),
    path("api/tata/templates/insights/optin", api.insights_optin, name="insights_optin"),
    path("api/tata/business/optin_optout", api.optin_optout, name="optin_optout"),
    path("api/tata/rcs/messages", api.rcs_messages, name="rcs_messages"),
    path("api/tata/files/<str:token>", api.media_file, name="file"),
]
