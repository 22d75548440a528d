"""upnpy._records.record: a frozen dataclass to the outside, created without generated code."""

import copy
import dataclasses
import pickle
from typing import Optional, Tuple

import pytest

from upnpy._records import Record, record


@record
class Point(Record):
    """A record with defaults, a factory and a field left out of the repr."""

    x: int
    y: int
    label: Optional[str] = None
    tags: Tuple[str, ...] = ()
    extra: Tuple[int, ...] = dataclasses.field(default_factory=tuple, repr=False)


@record
class Point3(Point):
    z: int = 0


def test_every_way_of_calling_gives_the_same_record():
    full = Point(1, 2, None, (), ())
    assert Point(1, 2) == full
    assert Point(x=1, y=2) == full
    assert Point(1, y=2, label=None) == full
    assert Point(y=2, x=1, label=None, tags=(), extra=()) == full
    assert vars(Point(1, 2)) == {"x": 1, "y": 2, "label": None, "tags": (), "extra": ()}


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((1,), {}, "missing required argument: 'y'"),
        ((1, 2, "a", (), {}, 6), {}, "takes 5 arguments but 6 were given"),
        ((1, 2), {"w": 3}, "unexpected keyword argument 'w'"),
        ((1, 2), {"x": 3}, "multiple values for argument 'x'"),
        ((), {"y": 2}, "missing required argument: 'x'"),
    ],
)
def test_a_wrong_call_is_a_type_error(args, kwargs, message):
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)


def test_a_record_is_frozen():
    point = Point(1, 2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.y
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.other = 1
    assert point.x == 1


def test_equality_and_hash_are_by_fields_and_class():
    assert Point(1, 2, "a") == Point(1, 2, "a")
    assert Point(1, 2, "a") != Point(1, 2, "b")
    assert Point(1, 2) != Point3(1, 2)  # another class, even with the same values
    assert Point(1, 2) != (1, 2)
    assert hash(Point(1, 2, "a", ("t",))) == hash(Point(1, 2, "a", ("t",)))
    assert len({Point3(1, 2, z=1), Point3(1, 2, z=1), Point3(1, 2, z=2)}) == 2


def test_the_repr_shows_the_fields_as_a_dataclass_does():
    assert repr(Point(1, 2, "a")) == "Point(x=1, y=2, label='a', tags=())"
    assert repr(Point3(1, 2, z=5)) == "Point3(x=1, y=2, label=None, tags=(), z=5)"


def test_dataclass_functions_work_on_records():
    point = Point3(1, 2, tags=("a",), z=3)
    assert dataclasses.is_dataclass(point)
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "label", "tags", "extra", "z"]
    assert dataclasses.replace(point, z=4) == Point3(1, 2, tags=("a",), z=4)
    assert dataclasses.astuple(Point(1, 2)) == (1, 2, None, (), ())
    assert Point3.__match_args__ == ("x", "y", "label", "tags", "extra", "z")


def test_records_copy_and_pickle():
    point = Point3(1, 2, "a", ("t",), z=9)
    for again in (copy.copy(point), copy.deepcopy(point), pickle.loads(pickle.dumps(point))):
        assert again == point
        assert type(again) is Point3
        with pytest.raises(dataclasses.FrozenInstanceError):
            again.x = 0
