"""The training names the docs tell users to write as ``sg.X`` are reachable from the package."""
import warnings

import symgrad as sg
from symgrad.compiling import training


def test_epoch_log_is_sg_epoch_log(tmp_path):
    assert sg.EpochLog is training.EpochLog
    log = sg.EpochLog(str(tmp_path / "m.csv"))
    assert callable(log)


def test_training_warnings_are_public_and_filterable():
    for name in ("ScheduleEndsWarning", "ResumeSeedWarning", "ResumeDataWarning"):
        cls = getattr(sg, name)
        assert issubclass(cls, Warning)
        with warnings.catch_warnings():
            warnings.simplefilter("error", cls)
            try:
                warnings.warn("x", cls)
            except cls:
                pass
            else:
                raise AssertionError(f"sg.{name} could not be filtered")
