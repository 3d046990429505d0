"""Every public name of sparsenet.nn and sparsenet.bench imports and is documented."""
import sparsenet.bench as bench
import sparsenet.nn as snn


def test_public_names_exist_and_have_docstrings():
    for mod in (snn, bench):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj):
                assert obj.__doc__ and obj.__doc__.strip(), f"{mod.__name__}.{name} has no docstring"
