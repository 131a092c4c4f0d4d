"""Probes for assignment 3: grader code that runs next to the student's code, in its process.

When train ends with the wrong weights, either its update is wrong or the
gradients it uses are. To tell the two apart, this runs the update the
exercise asks for (per-sample SGD, in data order) with the student's own
gradients method; the checks compare the student's train with it and with
the reference. The others save round trips: setting a network's nine weights,
feedforward with each weight nudged, and the weights of a network trained
in steps, for its loss curve.
"""

PARAMETERS = ("w1", "w2", "w3", "w4", "w5", "w6", "b1", "b2", "b3")


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


def set_weights(student, net, params):
    """Set each of params on net (a network the grader made), as the grader would set them one by one."""
    for name, value in params.items():
        setattr(net, name, value)


def feedforward_nudged(student, net, params, x, step):
    """feedforward(x) with each parameter in turn at params[name] + step, then - step, then set back.

    name -> [output up, output down]; the grader turns them into central differences.
    """
    outputs = {}
    for name in PARAMETERS:
        outputs[name] = []
        for sign in (1, -1):
            setattr(net, name, params[name] + sign * step)
            outputs[name].append(net.feedforward(x.copy()))
        setattr(net, name, params[name])
    return outputs


def weights_while_training(student, data, labels, learn_rate, epochs, every):
    """A new network's nine parameters, as they are, before its train runs and after each `every` epochs of it.

    Each call of train gets its own copy of the data, as a call from the grader would.
    """
    net = student.OurNeuralNetwork()
    seen = [{name: getattr(net, name) for name in PARAMETERS}]
    for _ in range(epochs // every):
        net.train(data.copy(), labels.copy(), learn_rate, every)
        seen.append({name: getattr(net, name) for name in PARAMETERS})
    return seen
