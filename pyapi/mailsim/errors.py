"""ScenarioError: a scenario (or its template) did not load.

The class comes from the C++ module when it is built, so that the loader's errors and the
template renderer's errors are one type; without the module (pure-Python tests, a build
without pybind11) an equivalent Python class stands in.
"""

try:
    from mailsim._core import ScenarioError
except ImportError:  # pragma: no cover - only without the C++ module

    class ScenarioError(ValueError):
        """A scenario did not load: file, line, column (1-based, 0 unknown), message."""


def scenario_error(file, line, column, message):
    """Builds a ScenarioError whose str() is "file:line:column: message".

    An unknown column (0) is left out of the text, and so is an unknown line.
    """
    place = ":".join(str(p) for p in [file, line, column][: 1 + (line > 0) + (column > 0)])
    error = ScenarioError(f"{place}: {message}")
    error.file = file
    error.line = line
    error.column = column
    error.message = message
    return error
