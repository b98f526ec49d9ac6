from django.urls import path

from telephony import automated_views, connection_views, views, webhooks

app_name = "telephony"
urlpatterns = [
    # Public, for Smartflo (the token authenticates): paste into Settings › API Connect › Webhook.
    path("status/<str:token>/", webhooks.status_webhook, name="status"),
    # Public, for Smartflo: the Outbound Voice URL (Voice Streaming › Voice Bot, dynamic, GET).
    path("voice/<str:token>/<str:telephony_id>/", webhooks.voice_stream_target, name="voice"),
    path("automated/", automated_views.campaign_list, name="automated"),
    path("automated/new/", automated_views.campaign_new, name="automated_new"),
    path("automated/<int:pk>/", automated_views.campaign_detail, name="automated_detail"),
    path("automated/<int:pk>/progress/", automated_views.campaign_progress, name="automated_progress"),
    path("automated/<int:pk>/stop/", automated_views.campaign_cancel, name="automated_cancel"),
    path("calls/", views.call_list, name="calls"),
    path("calls/export.csv", views.call_export, name="export"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("calls/<int:pk>/recording/", views.recording, name="recording"),
    path("calls/<int:pk>/recording/retry/", views.recording_retry, name="recording_retry"),
    path("calls/<int:pk>/notes/", views.note_add, name="note_add"),
    path("calls/<int:pk>/whatsapp/", views.message_on_whatsapp, name="whatsapp"),
    path("calls/<int:pk>/state/", views.call_state, name="call_state"),
    path("calls/<int:pk>/action/", views.call_action, name="call_action"),
    path("calls/<int:pk>/pop/", views.screen_pop, name="screen_pop"),
    path("click-to-call/", views.click_to_call, name="click_to_call"),
    path("live/", views.live_page, name="live"),
    path("live/rows/", views.live_rows, name="live_rows"),
    path("watch/", views.watch, name="watch"),
    path("connections/", connection_views.connection_list, name="connections"),
    path("connections/new/", connection_views.connection_new, name="connection_new"),
    path("connections/<uuid:pk>/setup/", connection_views.connection_setup, name="setup"),
    path("connections/<uuid:pk>/test/", connection_views.connection_test, name="test"),
    path("connections/<uuid:pk>/import/", connection_views.connection_import, name="import"),
    path("connections/<uuid:pk>/agents/", connection_views.connection_agents, name="agents"),
    path("me/", views.my_line, name="me"),
    path("imports/<int:pk>/", connection_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/resume/", connection_views.import_resume, name="import_resume"),
]
