from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import User
from accounts.selectors import can_delete_contacts, can_manage_contacts_in_bulk
from contacts import selectors, services
from contacts.models import Contact, Label, Note
from core.errors import NotAllowed


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "color"]


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField()

    class Meta:
        model = Note
        fields = ["id", "body", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class PhoneListField(serializers.ListField):
    def to_representation(self, data):
        return [phone.number for phone in data.all()]


class ContactSerializer(serializers.ModelSerializer):
    phones = PhoneListField(
        child=serializers.CharField(max_length=40), required=False,
        help_text="Any form (09812345678, +91 98123 45678, 919812345678); stored and returned as E.164.",
    )
    labels = serializers.SlugRelatedField(slug_field="name", queryset=Label.objects.all(), many=True, required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), allow_null=True, required=False)
    custom_fields = serializers.DictField(required=False, help_text="Custom field key → value (see the admin's custom fields).")

    class Meta:
        model = Contact
        fields = ["id", "name", "phones", "email", "owner", "labels", "custom_fields", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def _contact_data(self, instance=None) -> services.ContactData:
        v = self.validated_data
        current = instance or Contact()
        return services.ContactData(
            name=v.get("name", current.name),
            phones=v["phones"] if "phones" in v else ([p.number for p in instance.phones.all()] if instance else []),
            email=v.get("email", current.email),
            owner=v["owner"] if "owner" in v else current.owner,
            labels=v.get("labels"),
            custom_fields=v.get("custom_fields"),
        )

    def create(self, validated_data):
        return services.create_contact(self._contact_data(), by=self.context["request"].user)

    def update(self, instance, validated_data):
        return services.update_contact(instance, self._contact_data(instance), by=self.context["request"].user)


class MergeSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(help_text="id of the contact folded into this one (it is deleted)")


@extend_schema(
    parameters=[
        OpenApiParameter("q", str, description="name, email or a phone fragment in any form"),
        OpenApiParameter("label", int),
        OpenApiParameter("owner", str, description="'me', 'none' or a user id"),
    ]
)
class ContactViewSet(viewsets.ModelViewSet):
    serializer_class = ContactSerializer

    def get_queryset(self):
        contacts = selectors.visible_contacts(self.request.user)
        if self.action == "list":
            params = self.request.query_params
            contacts = selectors.search_contacts(contacts, params.get("q", ""))
            contacts = selectors.filter_contacts(
                contacts, user=self.request.user, label=params.get("label"), owner=params.get("owner")
            )
        return selectors.with_list_data(contacts)

    def perform_destroy(self, instance):
        if not can_delete_contacts(self.request.user):
            raise NotAllowed("Only admins can delete contacts.", code="forbidden")
        instance.delete()

    @extend_schema(request=NoteSerializer, responses={201: NoteSerializer})
    @action(detail=True, methods=["get", "post"])
    def notes(self, request, pk=None):
        contact = self.get_object()
        if request.method == "GET":
            return Response(NoteSerializer(contact.notes.select_related("author"), many=True).data)
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.add_note(contact, author=request.user, body=serializer.validated_data["body"])
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MergeSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        if not can_manage_contacts_in_bulk(request.user):
            raise NotAllowed("Only supervisors and admins can merge contacts.", code="forbidden")
        contact = self.get_object()
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        duplicate = get_object_or_404(selectors.visible_contacts(request.user), pk=serializer.validated_data["duplicate"])
        try:
            kept = services.merge_contacts(contact, duplicate, by=request.user)
        except ValidationError as exc:
            raise serializers.ValidationError({"duplicate": exc.messages})
        return Response(ContactSerializer(selectors.with_list_data(Contact.objects.filter(pk=kept.pk)).get()).data)


class LabelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Label.objects.all()
    serializer_class = LabelSerializer
    pagination_class = None
