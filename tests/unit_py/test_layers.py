"""The shape of the mpcheck package (and of bench/mpbench, split the same
way): every module is in its LAYERS, imports only the modules listed before
it (read with ast, so a new upward import fails here before it can make a
cycle), and nothing outside the standard library (CI runners have only
python3)."""

import ast
import os
import sys
import unittest

import mpcheck

PACKAGE = os.path.dirname(os.path.abspath(mpcheck.__file__))
BENCH = os.path.join(os.path.dirname(PACKAGE), "bench", "mpbench")


def imports(module, package=PACKAGE):
    """(relative module names, absolute top-level names) it imports."""
    with open(os.path.join(package, module + ".py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    relative, absolute = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if node.module:
                    relative.add(node.module.split(".")[0])
                else:               # from . import x
                    relative.update(a.name for a in node.names)
            else:
                absolute.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            absolute.update(a.name.split(".")[0] for a in node.names)
    return relative, absolute


class Layers(unittest.TestCase):
    def test_every_module_is_in_layers(self):
        files = {name[:-3] for name in os.listdir(PACKAGE)
                 if name.endswith(".py")} - {"__init__", "__main__"}
        self.assertEqual(files, set(mpcheck.LAYERS))

    def test_imports_only_downward(self):
        order = list(mpcheck.LAYERS)
        for module in order:
            relative, absolute = imports(module)
            with self.subTest(module=module):
                above = {m for m in relative if m not in order or
                         order.index(m) >= order.index(module)}
                self.assertEqual(above, set(), f"{module} imports upward")
                self.assertNotIn("mpcheck", absolute)

    def test_standard_library_only(self):
        for module in list(mpcheck.LAYERS) + ["__main__"]:
            _, absolute = imports(module)
            with self.subTest(module=module):
                self.assertEqual(absolute - set(sys.stdlib_module_names),
                                 set())

    def test_the_checker_sees_an_upward_import(self):
        """The check itself: a module importing one above it is caught."""
        order = list(mpcheck.LAYERS)
        relative, _ = imports("main")
        self.assertIn("run", relative)
        self.assertGreater(order.index("main"), order.index("run"))
        relative, _ = imports("common")
        self.assertEqual(relative, set())


class BenchLayers(unittest.TestCase):
    def layers(self):
        tree = ast.parse(open(os.path.join(BENCH, "__init__.py"),
                              encoding="utf-8").read())
        return next(ast.literal_eval(n.value) for n in tree.body
                    if isinstance(n, ast.Assign) and
                    n.targets[0].id == "LAYERS")

    def test_bench_imports_only_downward_and_stdlib(self):
        order = list(self.layers())
        files = {name[:-3] for name in os.listdir(BENCH)
                 if name.endswith(".py")} - {"__init__"}
        self.assertEqual(files, set(order))
        for module in order:
            relative, absolute = imports(module, BENCH)
            with self.subTest(module=module):
                self.assertEqual({m for m in relative if m not in order or
                                  order.index(m) >= order.index(module)},
                                 set())
                self.assertEqual(absolute - set(sys.stdlib_module_names),
                                 set())


class Annotations(unittest.TestCase):
    def test_public_functions_have_type_hints(self):
        """Every module-level function not starting with '_' has its
        parameters and return annotated (mypy checks them, t_unit_py.sh)."""
        missing = []
        for module in mpcheck.LAYERS:
            with open(os.path.join(PACKAGE, module + ".py"),
                      encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in tree.body:
                if not isinstance(node, ast.FunctionDef) or \
                        node.name.startswith("_"):
                    continue
                args = node.args.args + node.args.kwonlyargs
                if node.returns is None or \
                        any(a.annotation is None for a in args):
                    missing.append(f"{module}.{node.name}")
        self.assertEqual(missing, [])


if __name__ == "__main__":
    unittest.main()
