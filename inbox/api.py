"""REST API of the inbox: channels, conversations and their messages. API key (Bearer) or session auth.

Thin: reads go through inbox.selectors (visibility applied), writes through inbox.channels.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action

from accounts.models import Team
from core.pagination import PagesWithoutCount
from inbox import channels, selectors
from inbox.models import Attachment, Channel, Conversation, Message


class ChannelSerializer(serializers.ModelSerializer):
    access_token = serializers.CharField(write_only=True, required=False, allow_blank=True, help_text="Tata omni API access token (JWT); write-only")
    partner_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, help_text="signs Tata's webhooks (x-hub-signature-256); write-only"
    )
    has_access_token = serializers.SerializerMethodField()
    has_partner_token = serializers.SerializerMethodField()
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    webhook_url = serializers.CharField(read_only=True, help_text="paste into Tata's portal for messages and callbacks (admins only)")

    class Meta:
        model = Channel
        fields = [
            "id", "kind", "name", "phone_number", "api_base_url", "access_token", "auth_scheme", "partner_token", "has_access_token",
            "has_partner_token", "accept_unsigned_posts", "team", "is_active", "webhook_url", "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, channel):
        """The webhook URL is a credential (it lets its holder post as Tata): admins only."""
        data = super().to_representation(channel)
        request = self.context.get("request")
        if request is None or not request.user.is_admin_role:
            data.pop("webhook_url", None)
        return data

    def get_has_access_token(self, channel) -> bool:
        return bool(channel.access_token)

    def get_has_partner_token(self, channel) -> bool:
        return bool(channel.partner_token)

    def create(self, validated_data):
        return channels.create_channel(by=self.context["request"].user, **validated_data)

    def update(self, instance, validated_data):
        return channels.update_channel(instance, by=self.context["request"].user, **validated_data)


class ChannelViewSet(viewsets.ModelViewSet):
    """Everyone signed in can list channels (to filter the inbox); only admins create or change them."""

    serializer_class = ChannelSerializer
    queryset = Channel.objects.select_related("team").order_by("name", "pk")
    pagination_class = None

    def perform_destroy(self, instance):
        channels._check_admin(self.request.user)
        instance.delete()


class ContactSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    phone = serializers.CharField(source="primary_phone")


class ConversationSerializer(serializers.ModelSerializer):
    contact = ContactSummarySerializer()
    labels = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id", "channel", "contact", "status", "snoozed_until", "assignee", "team", "labels", "last_message_at",
            "last_message_preview", "last_inbound_at", "unread_count", "created_at", "updated_at",
        ]


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="where a signed-in user fetches the file, once ready")

    class Meta:
        model = Attachment
        fields = ["id", "kind", "status", "mime_type", "file_name", "size", "error", "url"]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment):
        if attachment.status != Attachment.Status.READY:
            return None
        path = reverse("inbox:attachment", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    sender = serializers.StringRelatedField()

    class Meta:
        model = Message
        fields = [
            "id", "uid", "conversation", "direction", "source", "type", "body", "content", "status", "error_code",
            "error_message", "provider_message_id", "reply_to", "reply_to_provider_id", "reactions", "sender",
            "timestamp", "status_updated_at", "attachments",
        ]


@extend_schema(
    parameters=[
        OpenApiParameter("view", str, enum=list(selectors.LIST_VIEWS), description="mine, unassigned or all (default)"),
        OpenApiParameter("status", str, enum=list(Conversation.Status.values)),
        OpenApiParameter("label", int, description="label id"),
        OpenApiParameter("channel", int, description="channel id"),
        OpenApiParameter("q", str, description="search contact name, email, phone (any form) and message text; ignores the other filters"),
    ]
)
class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Conversations the caller may see, newest activity first, with the inbox's filters."""

    serializer_class = ConversationSerializer
    pagination_class = PagesWithoutCount

    def get_queryset(self):
        params = self.request.query_params
        if self.action != "list":
            return selectors.visible_conversations(self.request.user).select_related("contact").prefetch_related("labels", "contact__phones")
        view = params.get("view", "all")
        if view not in selectors.LIST_VIEWS:
            raise serializers.ValidationError({"view": f"Choose one of {', '.join(selectors.LIST_VIEWS)}."})
        status = params.get("status", "")
        if status and status not in Conversation.Status.values:
            raise serializers.ValidationError({"status": f"Choose one of {', '.join(Conversation.Status.values)}."})
        return selectors.conversation_list(
            self.request.user,
            view=view,
            status=status,
            channel_id=_int_param(params, "channel"),
            label_id=_int_param(params, "label"),
            query=params.get("q", "")[: selectors.SEARCH_MAX_LENGTH],
        ).prefetch_related("labels", "contact__phones")

    @extend_schema(responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        """The thread, newest first (page through older ones)."""
        conversation = self.get_object()
        messages = (
            Message.objects.filter(conversation=conversation)
            .select_related("sender")
            .prefetch_related("attachments")
            .order_by("-timestamp", "-id")
        )
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageSerializer(page, many=True, context={"request": request}).data)


def _int_param(params, name: str) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise serializers.ValidationError({name: "Must be a number."}) from None
