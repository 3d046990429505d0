"""The robot simulator against hand-worked cases: rangefinders, radars, collisions, and whole
episodes of hand-built controllers (checked against a plain-Python replay of the paper's rules)."""
import math

import numpy as np
import pytest

from sparsenet.search import robot
from sparsenet.search.episode import simulate
from sparsenet.search.genome import Genome
from sparsenet.search.maze import make_maze

BOX = np.array([[0, 0, 100, 0], [100, 0, 100, 100], [100, 100, 0, 100], [0, 100, 0, 0]], float)


def inputs(x, y, heading, walls=BOX, goal=(90.0, 50.0)):
    out = np.zeros(robot.N_INPUTS)
    robot.sense(x, y, heading, walls, goal[0], goal[1], 100.0, robot.RANGEFINDER_ANGLES, robot.RADAR_LO,
                robot.RADAR_HI, out)
    return out


def test_rangefinders_hand_worked():
    r = inputs(50, 50, 0)[1:7] * 100  # angles -90, -45, 0, 45, 90, 180
    np.testing.assert_allclose(r, [50, 50 * math.sqrt(2), 50, 50 * math.sqrt(2), 50, 50], rtol=1e-12)
    # heading up (+y): -90 points to +x (80 to the wall), -45 to 45 deg (the top wall at 70 sqrt 2 before the
    # right one at 80 sqrt 2), 0 up (70), 45 to 135 deg (the left wall at 20 sqrt 2), 90 to -x (20), 180 down (30)
    r = inputs(20, 30, 90)[1:7] * 100
    np.testing.assert_allclose(r, [80, 70 * math.sqrt(2), 70, 20 * math.sqrt(2), 20, 30], rtol=1e-12)
    big = BOX * 3
    assert inputs(50, 50, 0, big)[3] == 1.0  # nothing within reach: the reach itself (normalised 1)
    assert robot.ray_length(50, 50, 0.0, np.array([[60, 40, 60, 60.0]]), 100.0) == pytest.approx(10)
    assert robot.ray_length(50, 50, 0.0, np.array([[60, 51, 60, 60.0]]), 100.0) == 100.0  # misses the segment
    assert robot.ray_length(50, 50, 0.0, np.array([[40, 40, 40, 60.0]]), 100.0) == 100.0  # behind the ray


@pytest.mark.parametrize("goal, heading, lit", [
    ((90, 50), 0, 0),     # ahead -> front
    ((50, 90), 0, 1),     # +90 (counter-clockwise) -> left
    ((10, 50), 0, 2),     # behind -> back
    ((50, 10), 0, 3),     # -90 -> right
    ((90, 50), 90, 3),    # heading +y: +x is to the right
    ((50 + math.cos(math.radians(44.9)), 50 + math.sin(math.radians(44.9))), 0, 0),
    ((50 + math.cos(math.radians(45.1)), 50 + math.sin(math.radians(45.1))), 0, 1),
])
def test_radar_slices(goal, heading, lit):
    radar = inputs(50, 50, heading, goal=goal)[7:]
    assert radar.tolist() == [1.0 if i == lit else 0.0 for i in range(4)]
    assert inputs(50, 50, heading, goal=goal)[0] == 1.0  # bias


def test_collisions_hand_worked():
    assert not robot.collides(10.0, 50.0, BOX, 8.0)
    assert robot.collides(7.9, 50.0, BOX, 8.0)
    seg = np.array([[40, 40, 60, 40.0]])
    assert robot.collides(65.0, 44.0, seg, 8.0)        # 6.4 from the end point (60, 40)
    assert not robot.collides(66.0, 46.0, seg, 8.0)    # 8.49 from it
    assert not robot.collides(50.0, 48.5, seg, 8.0)


def genome(conns, hidden=()):
    """A controller from (src, dst, weight) triples; ids: 0 bias, 1-6 rangefinders, 7-10 radars,
    11 angular output, 12 speed output, 13+ hidden."""
    src, dst, w = (np.array([c[i] for c in conns], dtype=t) for i, t in ((0, np.int64), (1, np.int64), (2, float)))
    return Genome(11, 2, sorted(hidden), src, dst, w, np.arange(len(conns), dtype=np.int64))


def replay_straight(x, heading, wall_x, steps, out_speed, radius=8.0):
    """The paper's rules by hand for a robot on y = 50 whose speed output is constant."""
    speed, pos = 0.0, x
    for _ in range(steps):
        speed = min(3.0, max(-3.0, speed + out_speed - 0.5))
        nx = pos + math.cos(math.radians(heading)) * speed
        if wall_x - nx >= radius and nx >= radius:
            pos = nx
    return pos


def test_a_controller_without_connections_stays_put():
    maze = make_maze("box", walls=BOX, start=(20, 50), goal=(90, 90))
    ep = simulate([genome([])], maze, 50)
    assert ep.final.tolist() == [[20.0, 50.0]] and ep.solved_at.tolist() == [-1]


def test_full_speed_ahead_stops_at_the_wall():
    maze = make_maze("box", walls=BOX, start=(20, 50), goal=(50, 90))
    out = 1 / (1 + math.exp(-robot.SIGMOID_SLOPE * 8.0))
    ep = simulate([genome([(0, 12, 8.0)])], maze, 60, trail_every=1)
    assert ep.final[0, 0] == pytest.approx(replay_straight(20, 0, 100, 60, out))
    assert 89 <= ep.final[0, 0] < 92 and ep.final[0, 1] == pytest.approx(50)
    xs = ep.trail[0, :, 0]
    assert (np.diff(xs) >= 0).all() and xs[-1] == ep.final[0, 0]


def test_hidden_node_delays_the_response_by_one_step():
    maze = make_maze("box", walls=BOX, start=(20, 50), goal=(50, 90))
    direct = simulate([genome([(0, 12, 8.0)])], maze, 5, trail_every=1).trail[0, :, 0]
    via = simulate([genome([(0, 13, 8.0), (13, 12, 8.0)], hidden=[13])], maze, 5, trail_every=1).trail[0, :, 0]
    # the hidden node's first tick sees only the bias; at tick 1 its output is near 1, like the direct one's
    assert via[0] == pytest.approx(20.0)  # first tick: hidden node 0 -> speed output sigmoid(0) = 0.5: no change
    assert direct[0] > 20.0
    np.testing.assert_allclose(via[1:], direct[:-1], rtol=1e-9)  # one step behind


def test_reaching_the_goal_ends_the_episode_there():
    maze = make_maze("box", walls=BOX, start=(20, 50), goal=(40, 50))
    ep = simulate([genome([(0, 12, 8.0)]), genome([])], maze, 100, trail_every=10)
    assert ep.solved.tolist() == [True, False]
    assert abs(ep.final[0, 0] - 40) < 5 and ep.final[0, 0] < 40
    step = int(ep.solved_at[0])
    # the replay reaches within 5 of x = 40 at the same step
    out = 1 / (1 + math.exp(-robot.SIGMOID_SLOPE * 8.0))
    assert replay_straight(20, 0, 100, step - 1, out) <= 35 < replay_straight(20, 0, 100, step, out)
    np.testing.assert_array_equal(ep.trail[0, -1], ep.final[0])  # the trail stays at the goal afterwards


def test_turning_controller_circles_and_matches_a_replay():
    maze = make_maze("box", walls=BOX * 3, start=(150, 150), goal=(290, 290))
    o = 1 / (1 + math.exp(-robot.SIGMOID_SLOPE * 0.2))
    ep = simulate([genome([(0, 11, 0.2), (0, 12, 0.2)])], maze, 30)
    x, y, hd, sp, ang = 150.0, 150.0, 0.0, 0.0, 0.0
    for _ in range(30):
        ang = min(3, max(-3, ang + o - 0.5))
        sp = min(3, max(-3, sp + o - 0.5))
        x, y = x + math.cos(math.radians(hd)) * sp, y + math.sin(math.radians(hd)) * sp
        hd = (hd + ang) % 360
    np.testing.assert_allclose(ep.final[0], [x, y], rtol=1e-10)
