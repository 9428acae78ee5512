"""Admin building blocks every app uses."""


class ReadOnlyAdminMixin:
    """A history or log in the admin: viewable by those allowed, never added, changed or deleted there."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TranslatedFieldsDirectionMixin:
    """On a modeltranslation admin, each language's field is typed in that language's direction
    (`name_fa`, `title_ar` right to left, `name_en` left to right), whatever the admin's own direction."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        from django.utils.translation import get_language_info

        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        language = getattr(db_field, "language", None)  # set on modeltranslation's per-language fields
        if field is not None and language:
            field.widget.attrs.setdefault("dir", "rtl" if get_language_info(language)["bidi"] else "ltr")
            field.widget.attrs.setdefault("lang", language)
        return field


def labelled_formset(formset_class):
    """`formset_class` whose rows' inputs are named for screen readers ("enabled: Welcome bonus", "Delete"):
    Django's change list (list_editable) and tabular inlines label a column only in its header, which is not a
    label, so each row's inputs would be announced as nameless boxes."""

    class LabelledFormSet(formset_class):
        def add_fields(self, form, index):
            super().add_fields(form, index)
            instance = getattr(form, "instance", None)
            for field in form.fields.values():
                if field.label and not field.widget.is_hidden:
                    label = f"{field.label}: {instance}" if getattr(instance, "pk", None) else str(field.label)
                    field.widget.attrs.setdefault("aria-label", label)

    LabelledFormSet.__name__ = formset_class.__name__
    return LabelledFormSet


class LabelledListEditableMixin:
    """A ModelAdmin with `list_editable`: each row's input has a label (labelled_formset)."""

    def get_changelist_formset(self, request, **kwargs):
        return labelled_formset(super().get_changelist_formset(request, **kwargs))


class LabelledInlineMixin:
    """A tabular inline with inputs: each row's input has a label (labelled_formset)."""

    def get_formset(self, request, obj=None, **kwargs):
        return labelled_formset(super().get_formset(request, obj, **kwargs))
