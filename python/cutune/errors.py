"""cutune.Error and one subclass per libcutune status, each carrying the library's message.

Python's own checks of what tune_kernel is given raise the same classes (a wrong dtype is an
InvalidArgumentError, an option cutune lacks a NotSupportedError), so one `except
cutune.Error` catches everything cutune refuses. Where a built-in exception means the same,
the class derives from it too (InvalidArgumentError is a ValueError)."""


class Error(Exception):
    """A failure of cutune: `status` is libcutune's code (0 for none), `message` what went
    wrong and where."""
    status = 0

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __reduce__(self):  # crosses from the tuning process intact
        return (type(self), (self.message, self.status))


def _status(name, code, doc, *bases):
    cls = type(name, (Error,) + bases, {"status": code, "__doc__": doc})
    globals()[name] = cls
    return cls


_CLASSES = [
    _status("InvalidArgumentError", 1, "An argument or input cutune cannot take.", ValueError),
    _status("OutOfMemoryError", 2, "Host or GPU memory ran out.", MemoryError),
    _status("FileError", 3, "A file could not be read or written.", OSError),
    _status("ParseError", 4, "Bad syntax: JSON, an expression."),
    _status("UnknownNameError", 5, "An expression names something that does not exist."),
    _status("TypeMismatchError", 6, "A value of the wrong type.", TypeError),
    _status("DomainError", 7, "Arithmetic outside its domain (division by zero, overflow)."),
    _status("RangeError", 8, "A value out of range."),
    _status("NotFoundError", 9, "No such thing (argument, profile, strategy).", LookupError),
    _status("EmptySpaceError", 10, "The search space has no valid configuration."),
    _status("TooBigError", 11, "Too large (a space, a file)."),
    _status("NoDeviceError", 12, "No CUDA device (or no driver)."),
    _status("CudaError", 13, "CUDA failed."),
    _status("NotSupportedError", 14, "Something cutune does not do.", NotImplementedError),
    _status("CanceledError", 15, "Stopped by the caller."),
    _status("CompileError", 16, "The kernel did not compile."),
    _status("CorruptError", 17, "Damaged data (a profile store)."),
    _status("BusyError", 18, "In use by another process."),
]
BY_STATUS = {cls.status: cls for cls in _CLASSES}


def from_status(status, message):
    """The exception for a libcutune status."""
    cls = BY_STATUS.get(status, Error)
    return cls(message or f"cutune status {status}", status)


__all__ = ["Error", "from_status"] + [cls.__name__ for cls in _CLASSES]
