"""Browser forms. They only parse input; the rules live in the services."""

from __future__ import annotations

from django import forms


class EmailForm(forms.Form):
    email = forms.CharField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    redirect_url = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)


class LoginForm(EmailForm):
    password = forms.CharField(
        strip=False, max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CodeForm(forms.Form):
    ticket = forms.CharField(max_length=2000, widget=forms.HiddenInput)
    code = forms.CharField(
        max_length=64, widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"})
    )


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        strip=False, max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        strip=False, max_length=4096, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    display_name = forms.CharField(max_length=200, required=False)
    code = forms.CharField(max_length=64, required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            raise forms.ValidationError("The two passwords differ. Type the same password twice.")
        return data


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(strip=False, max_length=4096, widget=forms.PasswordInput)
    password = forms.CharField(strip=False, max_length=4096, widget=forms.PasswordInput)
    password_again = forms.CharField(strip=False, max_length=4096, widget=forms.PasswordInput)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            raise forms.ValidationError("The two new passwords differ. Type the same password twice.")
        return data


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=200, required=False)


class MfaCodeForm(forms.Form):
    code = forms.CharField(max_length=64)


class MfaDisableForm(forms.Form):
    password = forms.CharField(strip=False, max_length=4096, widget=forms.PasswordInput)
    code = forms.CharField(max_length=64)


def first_error(form: forms.Form) -> str:
    """The first message of an invalid form, worded for a person."""
    for field, errors in form.errors.items():
        label = "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "
        return label + str(errors[0])
    return "Check the form and try again."
