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
