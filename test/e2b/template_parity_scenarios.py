"""Template parity scenarios (issue 15, groups 8 and 9) for the PyPI SDKs (unchanged), run by
template-parity.test.ts like template-parity-scenarios.mjs. argv[1] picks the group: `base` (PyPI
`e2b`: the tools of E2B's base image, used as `user`) or `code-interpreter` (PyPI
`e2b-code-interpreter`: its libraries, and plt.show()'s PNG and chart as the SDK's chart classes).
Prints one JSON line per scenario."""
import base64
import sys

from scenario_runner import check, run_scenarios

GROUP = sys.argv[1]
# CapEff of root in every sandbox (docs/security.md): sudo reaches that root and nothing more.
SANDBOX_ROOT_CAPS = "00000000000405fb"
ctx = {}


def sh(cmd):
    """Runs a shell line as the template's user; its stdout, trimmed (a non-zero exit raises)."""
    return ctx["sbx"].commands.run(cmd).stdout.strip()


def create_base():
    from e2b import Sandbox
    ctx["sbx"] = Sandbox.create("base", timeout=300)


def user():
    check(sh("whoami") == "user" and sh("pwd") == "/home/user", "runs as user in /home/user")


def sudo():
    sh("sudo -n true")
    check(sh("sudo -n id -u") == "0", "uid under sudo")
    caps = sh("sudo -n awk '/^CapEff/ {print $2}' /proc/self/status")
    check(caps == SANDBOX_ROOT_CAPS, f"capabilities under sudo: {caps}")


def python():
    check(sh("python -c 'import sys; print(sys.version_info[0])'") == "3", "python is Python 3")
    check(sh("pip --version").startswith("pip "), "pip --version")


def node():
    check(sh("node -e 'console.log(6 * 7)'") == "42", "node -e")


def tools():
    check(sh("git --version").startswith("git version"), "git --version")
    check(sh("curl --version").startswith("curl "), "curl --version")


def create_code_interpreter():
    from e2b_code_interpreter import Sandbox
    ctx["sbx"] = Sandbox.create(timeout=300)


def py(code):
    r = ctx["sbx"].run_code(code)
    check(r.error is None, f"{code}\n{r.error}")
    return r


def imports():
    r = py("import pandas, numpy, scipy, seaborn, sklearn, matplotlib, requests, openpyxl, bs4, sympy\n"
           "from sklearn.linear_model import LinearRegression\n"
           "round(float(LinearRegression().fit([[1], [2]], [3, 6]).coef_[0]), 3)")
    check(r.results[0].text == "3.0", repr(r.results))


def shown(code):
    r = py(f"import matplotlib.pyplot as plt\n{code}\nplt.show()")
    results = [x for x in r.results if x.png]
    check(len(results) == 1 and base64.b64decode(results[0].png)[:8] == b"\x89PNG\r\n\x1a\n", repr(r.results))
    check(results[0].chart is not None, f"no chart: formats {list(results[0].formats())}")
    return results[0].chart


def line_chart():
    from e2b_code_interpreter.charts import ChartType, LineChart, ScaleType
    chart = shown('plt.plot([1, 2, 3], [1, 4, 9], label="squares")\nplt.title("Squares")\nplt.ylabel("Area (m2)")\nplt.legend()')
    check(isinstance(chart, LineChart) and chart.type == ChartType.LINE and chart.title == "Squares", repr(chart.to_dict()))
    check(chart.y_unit == "m2" and chart.x_scale == ScaleType.LINEAR, repr(chart.to_dict()))
    check(chart.elements[0].label == "squares" and chart.elements[0].points == [(1, 1), (2, 4), (3, 9)], repr(chart.to_dict()))


def bar_and_superchart():
    from e2b_code_interpreter.charts import BarChart, SuperChart
    bar = shown('plt.bar(["A", "B"], [3, 5])')
    check(isinstance(bar, BarChart) and [(e.label, float(e.value)) for e in bar.elements] == [("A", 3.0), ("B", 5.0)], repr(bar.to_dict()))
    sup = shown("fig, (a, b) = plt.subplots(1, 2)\na.pie([1, 1])\nb.scatter([1], [2])")
    check(isinstance(sup, SuperChart) and [c.type.value for c in sup.elements] == ["pie", "scatter"], repr(sup.to_dict()))


SCENARIOS = {
    "base": [("create base", create_base), ("commands run as user in /home/user", user),
             ("sudo -n works without a password and reaches only the sandbox root", sudo),
             ("python is Python 3 and pip runs", python), ("node runs", node), ("git and curl run", tools)],
    "code-interpreter": [("create code-interpreter-v1", create_code_interpreter),
                         ("E2B image's libraries import and compute", imports),
                         ("plt.show() of a line chart returns its PNG and LineChart", line_chart),
                         ("bar charts and several axes come back as E2B chart classes", bar_and_superchart)],
}[GROUP]
run_scenarios(SCENARIOS, ctx, SCENARIOS[0][1], lambda sbx: sbx.kill())
