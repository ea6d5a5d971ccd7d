"""Forms validate shape only; business rules come back from actions."""

from __future__ import annotations

from django import forms


class KeyUploadForm(forms.Form):
    armored = forms.CharField(
        label="ASCII-armoured public key",
        widget=forms.Textarea(
            attrs={
                "rows": 10,
                "spellcheck": "false",
                "placeholder": "-----BEGIN PGP PUBLIC KEY BLOCK-----",
            }
        ),
        max_length=65536,
        help_text="Paste the output of: gpg --armor --export you@example.org",
    )
