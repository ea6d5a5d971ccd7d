"""Forms for reports and triage: shape only; rules come back from the actions."""

from __future__ import annotations

from typing import Any

from django import forms
from typing_extensions import override

from lockstep.embargo.routing import ROUTE_CHOICES
from lockstep.intake.actions import ReportInput


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - Django's signature
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    @override
    def clean(self, data: Any, initial: Any = None) -> Any:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class ReportForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))
    affected_versions = forms.CharField(max_length=500, required=False)
    proof_of_concept = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    already_public = forms.BooleanField(required=False, label="This issue is already public")
    public_url = forms.URLField(
        required=False, max_length=2000, label="Where is it public?", assume_scheme="https"
    )
    proposed_disclosure_at = forms.DateTimeField(
        required=False,
        label="Proposed public disclosure (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    credit_as = forms.CharField(max_length=200, required=False, label="Credit me as")
    reporter_name = forms.CharField(max_length=200, required=False, label="Your name")
    reporter_email = forms.EmailField(
        required=False,
        label="Your e-mail (for replies)",
        help_text=(
            "We mail you a receipt with this page's private link, and a note when there is news "
            "on your report. Without a key (below) the link travels in clear text."
        ),
    )
    reporter_key = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        label="Your OpenPGP public key (optional)",
        help_text=(
            "Then the receipt and the news themselves are mailed to you encrypted. Paste the "
            "output of gpg --armor --export YOUR-EMAIL."
        ),
    )
    attachments = MultipleFileField(required=False, label="Files (proof of concept, logs)")

    def to_input(self) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            title=data["title"],
            description=data["description"],
            affected_versions=data["affected_versions"],
            proof_of_concept=data["proof_of_concept"],
            already_public=data["already_public"],
            public_url=data["public_url"],
            proposed_disclosure_at=data["proposed_disclosure_at"],
            credit_as=data["credit_as"],
            reporter_name=data["reporter_name"],
            reporter_email=data["reporter_email"],
            reporter_key=data["reporter_key"],
        )


class MessageForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="Message")


class PostForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="Write to the case")
    attachments = MultipleFileField(required=False, label="Attach files (patches)")


class CasePostForm(PostForm):
    """A participant's post in the case room: the reporter reads it unless it is marked."""

    participants_only = forms.BooleanField(
        required=False,
        label="Participants only: the reporter does not see this post",
    )


class AcceptForm(forms.Form):
    route = forms.ChoiceField(choices=ROUTE_CHOICES)
    override_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Reason for an override"
    )
    channel = forms.SlugField(required=False)
    disclosure_at = forms.DateTimeField(
        required=False,
        label="Public disclosure (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class DuplicateForm(forms.Form):
    original = forms.IntegerField(min_value=1, label="Original report number")


class DateForm(forms.Form):
    disclosure_at = forms.DateTimeField(
        label="Public disclosure (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
