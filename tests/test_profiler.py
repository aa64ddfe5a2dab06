"""numpy2gpt.profiler: per-op forward/backward times and calls, record_function blocks, threads."""

import threading
import time

import numpy as np
import pytest

import numpy2gpt as ng
from numpy2gpt import profiler
from numpy2gpt.autograd import FusedFunction, engine, function

NAP = 0.01  # seconds; sleeps give lower bounds that hold however loaded the machine is


class Sleepy(FusedFunction):
    """y = 2x, taking NAP seconds in forward and 2 NAP in backward."""

    def forward(self, x):
        time.sleep(NAP)
        return x * 2

    def backward(self, gy):
        time.sleep(2 * NAP)
        return gy * 2


class Broken(FusedFunction):
    def forward(self, x):
        raise ValueError("broken forward")


def rows_by_name(prof):
    return {r.name: r for r in prof.key_averages()}


def leaf(n=3):
    return ng.tensor(np.arange(1.0, n + 1, dtype=np.float32), requires_grad=True)


def test_forward_and_backward_are_timed_separately():
    x = leaf()
    with profiler.profile() as prof:
        Sleepy()(x).sum().backward()
    rows = rows_by_name(prof)
    s = rows["Sleepy"]
    assert (s.kind, s.forward_calls, s.backward_calls, s.calls) == ("op", 1, 1, 2)
    assert s.forward_time >= NAP and s.backward_time >= 2 * NAP  # not mixed up
    assert s.forward_mean == s.forward_time and s.backward_mean == s.backward_time
    assert s.total_time == pytest.approx(s.forward_time + s.backward_time)
    assert s.inclusive_time == pytest.approx(s.total_time)  # an op nests nothing
    assert 0 < s.share <= 1 and s.share == pytest.approx(s.total_time / prof.wall_time)
    assert prof.wall_time >= 3 * NAP
    assert rows["Sum"].forward_calls == 1 and rows["Sum"].backward_calls == 1
    assert sum(r.share for r in prof.key_averages()) <= 1.0
    np.testing.assert_array_equal(x.grad.numpy(), [2, 2, 2])  # profiling changes no result


def test_ops_inside_a_backward_count_in_that_backward():
    # Mul's backward is written with numpy2gpt ops (two more Muls): they are part of Mul's
    # backward time, not extra forward calls. The gradient sum for `a` (used twice) is the
    # engine's work, not an extra Add forward.
    a, b = leaf(), leaf()
    with profiler.profile() as prof:
        ((a * b) + (a * 3.0)).sum().backward()
    rows = rows_by_name(prof)
    assert (rows["Mul"].forward_calls, rows["Mul"].backward_calls) == (2, 2)
    assert (rows["Add"].forward_calls, rows["Add"].backward_calls) == (1, 1)
    engine_row = rows[profiler.ENGINE]
    assert (engine_row.kind, engine_row.forward_calls, engine_row.backward_calls) == \
        ("engine", 0, 1)
    # the engine's inclusive time contains every node's backward
    node_backward = sum(r.backward_time for r in prof.key_averages() if r.kind == "op")
    assert engine_row.inclusive_time >= node_backward + engine_row.backward_time - 1e-9


def test_record_function_self_time_excludes_nested_ops():
    x = leaf()
    with profiler.profile() as prof:
        with profiler.record_function("outer"):
            time.sleep(NAP)
            with profiler.record_function("inner"):
                Sleepy()(x)
    rows = rows_by_name(prof)
    outer, inner, op = rows["outer"], rows["inner"], rows["Sleepy"]
    assert outer.kind == inner.kind == "range" and outer.forward_calls == 1
    assert outer.forward_time >= NAP and op.forward_time >= NAP
    assert outer.inclusive_time >= outer.forward_time + inner.inclusive_time - 1e-9
    assert inner.forward_time < inner.inclusive_time - 0.9 * NAP  # the op is not its self time
    assert inner.inclusive_time >= op.forward_time


def test_record_function_as_decorator_and_without_a_profiler():
    @profiler.record_function("step")
    def step(x):
        return (x * 2).sum()

    x = leaf()
    assert step(x).item() == 12.0  # no profile running: a no-op
    with profiler.profile() as prof:
        for _ in range(3):
            step(x)
    rows = rows_by_name(prof)
    assert rows["step"].forward_calls == 3 and rows["Mul"].forward_calls == 3


def test_nothing_is_recorded_outside_the_profile_and_hooks_are_removed():
    x = leaf()
    prof = profiler.profile()
    assert function._profiler is None and engine._profiler is None
    prof.start()
    assert function._profiler is prof and engine._profiler is prof
    x * 2
    prof.stop()
    assert function._profiler is None and engine._profiler is None
    (x * 2).sum().backward()
    assert [(r.name, r.forward_calls, r.backward_calls) for r in prof.key_averages()] == \
        [("Mul", 1, 0)]


def test_an_error_inside_the_profile_uninstalls_it_and_keeps_blocks_balanced():
    x = leaf()
    with pytest.raises(ValueError, match="broken forward"):
        with profiler.profile() as prof:
            with profiler.record_function("outer"):
                try:
                    Broken()(x)
                except ValueError:
                    pass
                Broken()(x)
    assert function._profiler is None and engine._profiler is None
    rows = rows_by_name(prof)
    assert rows["Broken"].forward_calls == 2 and rows["outer"].forward_calls == 1
    assert prof._record().stack == []  # every opened block was closed


def test_profiles_do_not_nest():
    with profiler.profile():
        with pytest.raises(RuntimeError, match="already running"):
            profiler.profile().start()
    with profiler.profile():  # the first one stopped normally
        pass


def test_threads_record_into_their_own_tables_and_are_merged():
    x = leaf()
    n = 300

    def work():
        for _ in range(n):
            x * 2.0

    with profiler.profile() as prof:
        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    averages = prof.key_averages()
    assert averages.threads == 2
    assert rows_by_name(prof)["Mul"].forward_calls == 2 * n
    assert "2 threads recorded" in prof.table()


def test_table_layout_sorting_and_limits():
    x = leaf()
    with profiler.profile() as prof:
        for _ in range(5):
            y = x * 2
        Sleepy()(y).sum().backward()
    table = prof.table(sort_by="total", row_limit=20)
    lines = table.splitlines()
    header = lines[1].split()
    assert header[0] == "Name" and "Fwd" in header and "Bwd" in header and "wall" in header
    first_row = lines[3].split()
    assert first_row[0] == "Sleepy" and first_row[1] == "1"  # the slowest op leads
    assert lines[-2].startswith("Profiled wall time:")
    by_calls = prof.table(sort_by="calls", row_limit=1).splitlines()
    assert by_calls[3].split()[:2] == ["Mul", "5"] and by_calls[4].startswith("---")
    # torch's spelling of the same key (the profile has stopped, so the numbers are final)
    assert prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20) == table
    assert prof.table(row_limit=-1).count("\n") >= prof.table(row_limit=1).count("\n")
    with pytest.raises(ValueError, match="sort_by"):
        prof.table(sort_by="speed")


def test_activities_argument_like_torch():
    with profiler.profile(activities=[profiler.ProfilerActivity.CPU]) as prof:
        leaf() * 2
    assert rows_by_name(prof)["Mul"].forward_calls == 1
    with pytest.raises(ValueError, match="CPU"):
        profiler.profile(activities=["cuda"])


def test_gpt_training_step_rows(capsys):
    from numpy2gpt.gpt import GPT, GPTConfig

    ng.manual_seed(0)
    model = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=16, block_size=8, vocab_size=11))
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 11, (3, 8)), rng.integers(0, 11, (3, 8))
    opt = ng.optim.AdamW(model.parameters(), lr=1e-3)
    with profiler.profile() as prof:
        _, loss = model(x, y)
        loss.backward()
        with profiler.record_function("optimizer.step"):
            opt.step()
    rows = rows_by_name(prof)
    # 2 blocks x 4 linears (qkv, proj, fc, proj) + lm_head
    assert rows["LinearFunction"].forward_calls == rows["LinearFunction"].backward_calls == 9
    assert rows["optimizer.step"].forward_calls == 1
    assert rows[profiler.ENGINE].backward_calls == 1
    assert 0 < sum(r.share for r in prof.key_averages()) <= 1.0  # one thread: no double count
