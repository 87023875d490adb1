"""One deadline per request: nested deadlines keep the sooner end; threads started from
inside carry it; outside any request nothing is limited."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context

import pytest

from rag import deadline
from rag.errors import DeadlineExceeded


def test_outside_a_request_nothing_is_limited() -> None:
    assert deadline.left() is None
    deadline.check("anything")  # no error


def test_check_raises_once_the_time_is_up_naming_what_and_the_setting() -> None:
    with deadline.deadline(0.05):
        deadline.check("the search")
        time.sleep(0.06)
        with pytest.raises(DeadlineExceeded, match=r"the search did not finish within 0\.05s"):
            deadline.check("the search")
    assert deadline.left() is None  # reset when the request ends


def test_a_nested_deadline_never_extends_the_outer_one() -> None:
    with deadline.deadline(1.0):
        with deadline.deadline(60.0) as inner:
            assert inner.seconds == 1.0 and inner.left() <= 1.0
        with deadline.deadline(0.1) as sooner:
            assert sooner.seconds == 0.1


def test_a_thread_started_with_the_request_context_sees_its_deadline() -> None:
    with deadline.deadline(5.0), ThreadPoolExecutor(1) as pool:
        context = copy_context()  # what Starlette's run_in_threadpool does
        left = pool.submit(context.run, deadline.left).result()
    assert left is not None and 4.0 < left <= 5.0
