"""The public survey form: one field per question, validated on the server."""

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import Question, Survey


# A choice is sent as its id; a number beyond 64 bits cannot be one, and SQLite refuses to even
# compare it (OverflowError), so such a value is an invalid choice before any query.
_MAX_ID = 2**63 - 1


def _is_id(value) -> bool:
    try:
        return 0 < int(str(value)) <= _MAX_ID
    except ValueError:
        return False


class ChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value not in self.empty_values and not _is_id(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class MultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for item in value:
            if not _is_id(item):
                raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                            params={"value": item})
        return super()._check_values(value)


class SurveyForm(forms.Form):
    # A field people cannot see; bots fill it in. Only used on anonymous public links.
    website = forms.CharField(required=False, label=_("Leave this field empty"), widget=forms.TextInput(
        attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args, survey: Survey, honeypot: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not honeypot:
            del self.fields["website"]
        self.survey = survey
        self.questions = list(survey.questions.prefetch_related("choices"))
        for question in self.questions:
            self.fields[self.field_name(question)] = self._field(question)

    @staticmethod
    def field_name(question: Question) -> str:
        return f"q{question.pk}"

    def _field(self, question: Question) -> forms.Field:
        common = {"label": question.text, "help_text": question.help_text, "required": question.required}
        if question.type == Question.Type.NPS:
            return forms.TypedChoiceField(
                choices=[(n, str(n)) for n in range(11)], coerce=int, widget=forms.RadioSelect(attrs={"class": "scale"}),
                error_messages={"required": _("Please choose a number from 0 to 10."),
                                "invalid_choice": _("Choose a number from 0 to 10.")},
                **common,
            )
        if question.type == Question.Type.RATING:
            return forms.TypedChoiceField(
                choices=[(n, str(n)) for n in range(1, 6)], coerce=int, widget=forms.RadioSelect(attrs={"class": "scale"}),
                error_messages={"required": _("Please choose a rating from 1 to 5."),
                                "invalid_choice": _("Choose a rating from 1 to 5.")},
                **common,
            )
        if question.type == Question.Type.SINGLE:
            return ChoiceField(
                queryset=question.choices.all(), widget=forms.RadioSelect, empty_label=None,
                error_messages={"invalid_choice": _("Choose one of the options.")}, **common,
            )
        if question.type == Question.Type.MULTIPLE:
            return MultipleChoiceField(
                queryset=question.choices.all(), widget=forms.CheckboxSelectMultiple,
                error_messages={"invalid_choice": _("Choose among the options."), "invalid_pk_value": _("Choose among the options.")},
                **common,
            )
        if question.type == Question.Type.SHORT_TEXT:
            return forms.CharField(max_length=200, **common)
        return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), **common)

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    def answers(self) -> dict[Question, object]:
        return {question: self.cleaned_data.get(self.field_name(question)) for question in self.questions}


class ReturnForm(forms.Form):
    """The customer's return page: a quantity and a reason for each line of the order."""

    resolution = forms.ChoiceField(label=_("What would you like?"), widget=forms.RadioSelect)
    note = forms.CharField(label=_("Anything we should know?"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, lines, **kwargs):
        from feedback.models import ReturnLine, ReturnRequest

        super().__init__(*args, **kwargs)
        self.fields["resolution"].choices = ReturnRequest.Resolution.choices
        self.fields["resolution"].initial = ReturnRequest.Resolution.REFUND
        self.line_fields = []
        for line, available in lines:
            quantity = forms.TypedChoiceField(
                label=_("How many to return"), coerce=int, required=False, initial=0,
                choices=[(n, str(n)) for n in range(available + 1)], disabled=available == 0,
                error_messages={"invalid_choice": _("You can return at most %(count)s of this item.") % {"count": available}},
            )
            reason = forms.ChoiceField(label=_("Reason"), required=False, choices=[("", "—")] + list(ReturnLine.Reason.choices))
            self.fields[f"qty_{line.pk}"] = quantity
            self.fields[f"reason_{line.pk}"] = reason
            self.line_fields.append((line, available, self[f"qty_{line.pk}"], self[f"reason_{line.pk}"]))

    def clean(self):
        cleaned = super().clean()
        chosen = 0
        for line, _available, quantity, reason in self.line_fields:
            if cleaned.get(f"qty_{line.pk}"):
                chosen += 1
                if not cleaned.get(f"reason_{line.pk}"):
                    self.add_error(f"reason_{line.pk}", _("Please tell us why you are returning this item."))
        if not chosen and not self.errors:
            raise forms.ValidationError(_("Choose at least one item to return."))
        return cleaned

    def line_requests(self):
        from feedback.services.returns import LineRequest

        return [
            LineRequest(order_line_id=line.pk, quantity=self.cleaned_data[f"qty_{line.pk}"],
                        reason=self.cleaned_data[f"reason_{line.pk}"])
            for line, _available, _q, _r in self.line_fields if self.cleaned_data.get(f"qty_{line.pk}")
        ]
