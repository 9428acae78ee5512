"""`.values()` rows read as attributes: one rendering serves model instances and rows (the API's list pages, the
ledger page's facts), without building a model instance per row."""


class Row:
    """A `.values()` row read as attributes, so that one rendering serves model instances and rows.
    A column the `.values()` call did not ask for is an AttributeError, never a silent None.

    The row's dict becomes the object's own attributes (it is not copied; `extra` columns are added to it): a
    column is read as fast as any attribute. A dict subclass with `__getattr__` paid a failed look-up and an
    exception per read, about a tenth of an order page's time (issue 17). `row["column"]` and `row.get()` read
    the same dict."""

    __slots__ = ("__dict__",)

    def __init__(self, values: dict, **extra):
        values.update(extra)
        self.__dict__ = values

    def __getitem__(self, name):
        return self.__dict__[name]

    def get(self, name, default=None):
        return self.__dict__.get(name, default)
