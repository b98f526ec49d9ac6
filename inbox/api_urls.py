from rest_framework.routers import SimpleRouter

from inbox.api import ChannelViewSet, ConversationViewSet

router = SimpleRouter()
router.register("channels", ChannelViewSet, basename="channel")
router.register("conversations", ConversationViewSet, basename="conversation")

urlpatterns = router.urls
