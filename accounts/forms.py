from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts import throttle


class ThrottledLoginMixin:
    """Refuse a sign-in while the account or the address is over its failure limit (accounts.throttle);
    even the right password waits."""

    throttled = False

    def clean(self):
        username = self.cleaned_data.get("username")
        if throttle.is_blocked(self.request, username):
            self.throttled = True
            raise forms.ValidationError(throttle.blocked_message(), code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttle.record_failure(self.request, username)
            raise
        throttle.record_success(username or "")
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, label="What is it for?", widget=forms.TextInput(attrs={"placeholder": "e.g. telephony bridge"}))
