"""The chaos suite in small: one trial of three people over two steps, real `meltano run`.

The seed is fixed so that the disturbed world suffers faults, a session expiry and a kill -9 of
the first sync (the class of bug 4 in issue 9: a first run that dies before writing).
"""

from __future__ import annotations

import pytest

from chaos.platforms import Autopilot
from chaos.trial import Trials
from chaos.world import Options

pytestmark = pytest.mark.xdist_group("chaos")


@pytest.fixture(scope="module")
def trial(tmp_path_factory):
    trials = Trials(Autopilot(), Options(max_quiet_runs=4), seed="ci4", people=3, steps=2,
                    scripts=1, workdir=tmp_path_factory.mktemp("chaos"), keep=True,
                    step_seconds=15)  # both worlds at once; the kill lands within 15 s
    return trials.run(0)


def test_the_disturbed_world_is_disturbed(trial):
    assert trial.disturbed.kills >= 1
    assert trial.disturbed.faults >= 1
    assert trial.undisturbed.kills == trial.undisturbed.faults == 0


def test_the_disturbed_world_ends_as_the_undisturbed_one(trial):
    assert [d.describe() for d in trial.differences] == []
    assert {world: found for world, found in trial.spurious.items() if found} == {}
    assert {"undisturbed", "disturbed"} <= set(trial.spurious)  # a twin adds its own
