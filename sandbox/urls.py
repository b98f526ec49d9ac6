from django.urls import path

from sandbox import api, smartflo_views, views

app_name = "sandbox"
urlpatterns = [
    path("", views.customer_page, name="customer"),
    path("send/", views.customer_send, name="send"),
    path("typing/", views.customer_typing, name="typing"),
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
    # The fake Smartflo (a connection's API token or a login token authenticates) and its phone page.
    path("api/smartflo/v1/auth/login", smartflo_views.login, name="smartflo_login"),
    path("api/smartflo/v1/my_number", smartflo_views.my_number, name="smartflo_my_number"),
    path("api/smartflo/v1/users", smartflo_views.users, name="smartflo_users"),
    path("api/smartflo/v1/call/records", smartflo_views.call_records, name="smartflo_call_records"),
    path("api/smartflo/v1/click_to_call", smartflo_views.click_to_call, name="smartflo_click_to_call"),
    path("api/smartflo/v1/click_to_call_support", smartflo_views.click_to_call_support, name="smartflo_click_to_call_support"),
    path("api/smartflo/v1/live_calls", smartflo_views.live_calls, name="smartflo_live_calls"),
    path("api/smartflo/v1/call/options", smartflo_views.call_options, name="smartflo_call_options"),
    path("api/smartflo/v1/call/hangup", smartflo_views.call_hangup, name="smartflo_call_hangup"),
    path("api/smartflo/recordings/<str:token>.wav", smartflo_views.recording, name="smartflo_recording"),
    path("calls/", smartflo_views.phone, name="smartflo_phone"),
    path("calls/<int:pk>/", smartflo_views.phone_call, name="smartflo_call"),
    path("calls/<int:pk>/heard.wav", smartflo_views.heard, name="smartflo_heard"),
    path("calls/<int:pk>/<str:side>/", smartflo_views.handset, name="smartflo_handset"),
]
