"""The maze robot and its controllers, simulated for a whole population in one numba call.

The robot (Lehman & Stanley 2011, Section 5.1 and Figure 2): a disc of radius 8 with six
rangefinders (at -90, -45, 0, 45, 90 and 180 degrees from its heading, reach 100, each input the
distance to the nearest wall over the reach) and four pie-slice goal radars (front, left, back,
right, 90 degrees each; the one whose slice holds the goal reads 1, the others 0), plus a bias
input of 1: 11 inputs. Two outputs in [0, 1] change the angular velocity and the speed by
``output - 0.5`` per step, both clamped to [-3, 3]; the robot moves along its heading, and a move
that would bring it within its radius of a wall is not made. An episode lasts a fixed number of
steps or ends when the robot comes within 5 units of the goal (it then stays there).

Controllers are sparse recurrent networks: every non-input node is a steepened sigmoid
``1 / (1 + exp(-4.924 x))`` (NEAT's) of the weighted sum of its incoming connections' source
activations from the previous tick, one tick per time step, so an input-to-output path through n
hidden nodes answers n + 1 steps later. A population is packed into one CSR matrix by destination
node (`sparsenet.search.genome.pack`); a tick costs O(live connections), never O(nodes²).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

N_RANGEFINDERS = 6
N_RADARS = 4
N_INPUTS = 1 + N_RANGEFINDERS + N_RADARS  # bias first
N_OUTPUTS = 2
RANGEFINDER_ANGLES = np.array([-90.0, -45.0, 0.0, 45.0, 90.0, -180.0])
# radar slices, degrees counter-clockwise from the heading: front, left, back, right
RADAR_LO = np.array([315.0, 45.0, 135.0, 225.0])
RADAR_HI = np.array([405.0, 135.0, 225.0, 315.0])
MAX_SPEED = 3.0
SIGMOID_SLOPE = 4.924


@njit(cache=True, inline="always")
def segment_distance(px, py, x1, y1, x2, y2):
    """Distance from (px, py) to the segment (x1, y1)-(x2, y2)."""
    dx, dy = x2 - x1, y2 - y1
    n = dx * dx + dy * dy
    u = 0.0
    if n > 0.0:
        u = ((px - x1) * dx + (py - y1) * dy) / n
        u = min(1.0, max(0.0, u))
    ex, ey = px - (x1 + u * dx), py - (y1 + u * dy)
    return math.sqrt(ex * ex + ey * ey)


@njit(cache=True)
def collides(x, y, walls, radius):
    """Whether a robot centred at (x, y) is closer than `radius` to any wall."""
    for j in range(walls.shape[0]):
        if segment_distance(x, y, walls[j, 0], walls[j, 1], walls[j, 2], walls[j, 3]) < radius:
            return True
    return False


@njit(cache=True)
def ray_length(x, y, angle_deg, walls, reach):
    """Distance along the ray from (x, y) at `angle_deg` to the nearest wall it crosses, at most `reach`."""
    a = angle_deg * math.pi / 180.0
    dx, dy = math.cos(a), math.sin(a)
    best = reach
    for j in range(walls.shape[0]):
        x1, y1, x2, y2 = walls[j, 0], walls[j, 1], walls[j, 2], walls[j, 3]
        ex, ey = x2 - x1, y2 - y1
        den = dx * ey - dy * ex
        if den == 0.0:
            continue  # parallel
        # solve (x, y) + t (dx, dy) = (x1, y1) + s (ex, ey)
        qx, qy = x1 - x, y1 - y
        t = (qx * ey - qy * ex) / den
        s = (qx * dy - qy * dx) / den
        if 0.0 <= s <= 1.0 and 0.0 <= t < best:
            best = t
    return best


@njit(cache=True)
def sense(x, y, heading, walls, goal_x, goal_y, reach, angles, radar_lo, radar_hi, out):
    """Write the 11 inputs (bias, rangefinders / reach, radars) for a robot at (x, y, heading) into `out`."""
    out[0] = 1.0
    for i in range(angles.shape[0]):
        out[1 + i] = ray_length(x, y, heading + angles[i], walls, reach) / reach
    rel = math.atan2(goal_y - y, goal_x - x) * 180.0 / math.pi - heading
    rel = rel % 360.0  # [0, 360)
    base = 1 + angles.shape[0]
    for i in range(radar_lo.shape[0]):
        lo, hi = radar_lo[i], radar_hi[i]
        hit = (lo <= rel < hi) or (lo <= rel + 360.0 < hi)
        out[base + i] = 1.0 if hit else 0.0


@njit(cache=True, parallel=True)
def run_population(node_ptr, in_ptr, src, weight, walls, start, heading0, goal, timesteps, radius, reach,
                   goal_radius, angles, radar_lo, radar_hi, n_inputs, final, solved_at, trail, trail_every):
    """Simulate every packed individual for `timesteps` steps.

    Individual i owns global nodes ``node_ptr[i]:node_ptr[i+1]``: its inputs first, then its two
    outputs, then hidden nodes; ``in_ptr`` (CSR by destination) lists each node's incoming
    connections as global source indices ``src`` with weights ``weight``. Writes the final
    position into ``final[i]``, the step the goal was reached (or -1) into ``solved_at[i]`` and,
    every `trail_every` steps, the position into ``trail[i, k]``.
    """
    n_ind = node_ptr.shape[0] - 1
    total = node_ptr[n_ind]
    act = np.zeros(total)
    nxt = np.zeros(total)
    for i in prange(n_ind):
        lo, hi = node_ptr[i], node_ptr[i + 1]
        x, y, hd = start[0], start[1], heading0
        speed, ang = 0.0, 0.0
        solved_at[i] = -1
        sensors = np.empty(n_inputs)
        sense(x, y, hd, walls, goal[0], goal[1], reach, angles, radar_lo, radar_hi, sensors)
        for t in range(timesteps):
            for k in range(n_inputs):
                act[lo + k] = sensors[k]
            for n in range(lo + n_inputs, hi):
                s = 0.0
                for c in range(in_ptr[n], in_ptr[n + 1]):
                    s += weight[c] * act[src[c]]
                nxt[n] = 1.0 / (1.0 + math.exp(-SIGMOID_SLOPE * s))
            for n in range(lo + n_inputs, hi):
                act[n] = nxt[n]
            ang += act[lo + n_inputs] - 0.5
            speed += act[lo + n_inputs + 1] - 0.5
            ang = min(MAX_SPEED, max(-MAX_SPEED, ang))
            speed = min(MAX_SPEED, max(-MAX_SPEED, speed))
            rad = hd * math.pi / 180.0
            nx, ny = x + math.cos(rad) * speed, y + math.sin(rad) * speed
            hd = (hd + ang) % 360.0
            if not collides(nx, ny, walls, radius):
                x, y = nx, ny
            if trail_every > 0 and (t + 1) % trail_every == 0:
                k = (t + 1) // trail_every - 1
                trail[i, k, 0] = x
                trail[i, k, 1] = y
            gx, gy = goal[0] - x, goal[1] - y
            if gx * gx + gy * gy < goal_radius * goal_radius:
                solved_at[i] = t + 1
                if trail_every > 0:
                    for k in range((t + 1) // trail_every, trail.shape[1]):
                        trail[i, k, 0] = x
                        trail[i, k, 1] = y
                break
            sense(x, y, hd, walls, goal[0], goal[1], reach, angles, radar_lo, radar_hi, sensors)
        final[i, 0] = x
        final[i, 1] = y


__all__ = ["MAX_SPEED", "N_INPUTS", "N_OUTPUTS", "N_RADARS", "N_RANGEFINDERS", "RADAR_HI", "RADAR_LO",
           "RANGEFINDER_ANGLES", "SIGMOID_SLOPE", "collides", "ray_length", "run_population", "segment_distance", "sense"]
