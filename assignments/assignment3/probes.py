"""Probes for assignment 3: grader code that runs next to the student's code, in its process.

When train ends with the wrong weights, either its update is wrong or the
gradients it uses are. To tell the two apart, this runs the update the
exercise asks for (per-sample SGD, in data order) with the student's own
gradients method; the checks compare the student's train with it and with
the reference.
"""


def sgd_with_own_gradients(student, params, data, labels, learn_rate, epochs):
    """The parameters after SGD written here, from params, with the gradients the student's method gives.

    None when those gradients cannot drive an update (the method raises, or
    returns something other than a number per parameter).
    """
    net = student.OurNeuralNetwork()
    for name, value in params.items():
        setattr(net, name, value)
    try:
        for _ in range(epochs):
            for x, y_true in zip(data, labels):
                grads = net.gradients(x, y_true)
                steps = {name: learn_rate * float(grads[name]) for name in params}
                for name, step in steps.items():
                    setattr(net, name, float(getattr(net, name)) - step)
        return {name: float(getattr(net, name)) for name in params}
    except Exception:
        return None


def own_gradients(student, params, x, y_true):
    """The student's gradients(x, y_true) on a network holding params, as it returns them."""
    net = student.OurNeuralNetwork()
    for name, value in params.items():
        setattr(net, name, value)
    return net.gradients(x, y_true)
