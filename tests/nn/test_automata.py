"""Elementary cellular automata and the box-ball system (chapter 4 column) against independent references."""

from math import comb

import numpy as np
import pytest

from physdl.nn import automata


def test_rule90_is_pascal_triangle_mod_2():
    L, T = 81, 30
    init = np.zeros(L, np.uint8)
    init[L // 2] = 1
    h = automata.elementary_ca(90, init, T)
    for t in range(T + 1):
        for x in range(-t, t + 1):
            want = 1 if (t + x) % 2 == 0 and comb(t, (t + x) // 2) % 2 == 1 else 0
            assert h[t, L // 2 + x] == want
    assert h[:, : L // 2 - T].sum() == 0


def test_rule30_first_rows_and_rule110_against_literal_table():
    init = np.zeros(11, np.uint8)
    init[5] = 1
    h = automata.elementary_ca(30, init, 3)
    assert "".join(map(str, h[3, 2:9])) == "1101111"  # rule 30 from one cell: 1, 111, 11001, 1101111
    rng = np.random.default_rng(0)
    s = rng.integers(0, 2, 17).astype(np.uint8)
    got = automata.elementary_ca(110, s, 5, periodic=False)
    ref = s.copy()
    for t in range(5):
        pad = np.concatenate(([0], ref, [0]))
        ref = np.array([(110 >> (4 * pad[i] + 2 * pad[i + 1] + pad[i + 2])) & 1 for i in range(len(s))], np.uint8)
        np.testing.assert_array_equal(got[t + 1], ref)


def _book_rule_step(state):
    """Eq. 4.47 literally: leftmost unmoved ball -> nearest box that is neither a ball nor a new ball."""
    s = [("o", "b")[v] for v in state]
    while "b" in s:
        i = s.index("b")
        s[i] = "o"
        j = i + 1
        while s[j] != "o":
            j += 1
        s[j] = "B"
    return np.array([1 if c == "B" else 0 for c in s], np.uint8)


def test_box_ball_step_is_eq_4_47(cpu_backend):
    rng = np.random.default_rng(1)
    for _ in range(20):
        s = np.concatenate((rng.integers(0, 2, 20), np.zeros(25, int))).astype(np.uint8)
        h = automata.box_ball(s, 1, backend=cpu_backend)
        np.testing.assert_array_equal(h[1], _book_rule_step(s))


@pytest.mark.parametrize("values", [[3, 2, 1], [3, 4, 2, 1, 2, 3], [5, 1, 4, 2, 3]])
def test_box_ball_sorts_the_book_examples(values, cpu_backend):
    assert automata.box_ball_sort(values, backend=cpu_backend) == sorted(values)


def test_box_ball_sorts_random_sequences_and_conserves_balls(cpu_backend):
    rng = np.random.default_rng(2)
    for _ in range(10):
        v = rng.integers(1, 9, rng.integers(2, 10)).tolist()
        assert automata.box_ball_sort(v, backend=cpu_backend) == sorted(v)
    s = automata.box_ball_state([4, 1, 3], length=200)
    h = automata.box_ball(s, 20, backend=cpu_backend)
    assert (h.sum(axis=1) == 8).all()


def test_bad_input():
    with pytest.raises(ValueError, match="rule must be <= 255"):
        automata.elementary_ca(256, [0, 1], 1)
    with pytest.raises(ValueError, match="only 0 and 1"):
        automata.box_ball([0, 2, 0], 1)
    with pytest.raises(ValueError, match="past the right end"):
        automata.box_ball([0, 1, 1, 1, 0], 3)
    with pytest.raises(ValueError, match=r"values\[1\] must be >= 1"):
        automata.box_ball_state([2, 0])
