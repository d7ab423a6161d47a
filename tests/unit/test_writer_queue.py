"""The SQLite writer queue: one writer at a time across threads and processes, reentrant."""

import multiprocessing
import os
import threading
import time

from windowsvc.db import WriterQueue

TURNS = 15


def _take_turns(queue: WriterQueue, log_path: str, turns: int = TURNS) -> None:
    """Hold the queue ``turns`` times, writing an enter and an exit line each time."""
    tag = f"{os.getpid()}-{threading.get_ident()}"
    for _ in range(turns):
        with queue.turn():
            with open(log_path, "a") as log:
                log.write(f"enter {tag}\n")
            time.sleep(0.001)  # long enough for an unqueued rival to get in between
            with open(log_path, "a") as log:
                log.write(f"exit {tag}\n")


def _assert_one_writer_at_a_time(log_path, holders):
    with open(log_path) as log:
        lines = [line.split() for line in log.read().splitlines()]
    assert len(lines) == 2 * TURNS * holders
    # strictly alternating: every enter is followed by the exit of the same holder
    for enter, leave in zip(lines[0::2], lines[1::2], strict=True):
        assert (enter[0], leave[0]) == ("enter", "exit")
        assert enter[1] == leave[1]


def _threads_take_turns(queue, log, count):
    threads = [threading.Thread(target=_take_turns, args=(queue, str(log))) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    _assert_one_writer_at_a_time(log, count)


def test_threads_of_one_process_write_one_at_a_time(tmp_path):
    _threads_take_turns(WriterQueue(str(tmp_path / "db.sqlite")), tmp_path / "log", 6)


def test_processes_write_one_at_a_time_even_with_a_queue_made_before_fork(tmp_path):
    queue = WriterQueue(str(tmp_path / "db.sqlite"))
    log = tmp_path / "log"
    with queue.turn():  # the parent's descriptor exists before the children are forked
        pass
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=_take_turns, args=(queue, str(log))) for _ in range(3)]
    for child in children:
        child.start()
    _take_turns(queue, str(log))
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    _assert_one_writer_at_a_time(log, 4)


def test_a_nested_turn_in_the_same_thread_does_not_wait_for_itself(tmp_path):
    queue = WriterQueue(str(tmp_path / "db.sqlite"))
    done = threading.Event()

    def nested():
        with queue.turn(), queue.turn():
            done.set()

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    thread.join(5)
    assert done.is_set()
    with queue.turn():  # and the queue is free again afterwards
        pass


def test_an_in_memory_database_queues_threads_only(tmp_path):
    _threads_take_turns(WriterQueue(None), tmp_path / "log", 3)


def test_a_stuck_holder_in_this_process_does_not_block_writers_for_ever(tmp_path):
    queue = WriterQueue(str(tmp_path / "db.sqlite"), wait_seconds=0.2)
    holding, release, got_in = threading.Event(), threading.Event(), threading.Event()

    def stuck():
        with queue.turn():
            holding.set()
            release.wait(30)

    def writer():
        with queue.turn():
            got_in.set()

    threading.Thread(target=stuck, daemon=True).start()
    assert holding.wait(5)
    threading.Thread(target=writer, daemon=True).start()
    try:
        assert got_in.wait(10)  # goes on to SQLite's own busy timeout after 0.2 s
    finally:
        release.set()


def _hold_in_another_process(queue, holding, release):
    with queue.turn():
        holding.set()
        release.wait(30)


def test_a_stuck_holder_in_another_process_does_not_block_writers_for_ever(tmp_path):
    queue = WriterQueue(str(tmp_path / "db.sqlite"), wait_seconds=0.2)
    context = multiprocessing.get_context("fork")
    holding, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_in_another_process, args=(queue, holding, release))
    holder.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        with queue.turn():
            waited = time.monotonic() - started
        assert 0.15 <= waited < 10
    finally:
        release.set()
        holder.join(10)


def test_a_lock_file_that_cannot_be_opened_leaves_the_waiting_to_sqlite(tmp_path):
    queue = WriterQueue(str(tmp_path / "missing-directory" / "db.sqlite"), wait_seconds=5)
    started = time.monotonic()
    with queue.turn():  # no error, and no waiting for a file lock that cannot be had
        waited = time.monotonic() - started
    assert waited < 1
    assert not (tmp_path / "missing-directory").exists()
    # the threads of this process still take turns
    _threads_take_turns(queue, tmp_path / "log", 3)
