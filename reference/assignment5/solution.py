"""Reference solution for assignment5."""

import numpy as np


def grad_of_two_xtx(x):
    return 2 * x


def grad_through_control_flow(x):
    return 2 * x


def add_in_place(x):
    return 2 * x


def sigmoid(x):
    return 2 * x


def initialize_with_zeros(x):
    return 2 * x


def propagate(x):
    return 2 * x


def optimize(x):
    return 2 * x


def predict(x):
    return 2 * x


def model(x):
    return 2 * x
