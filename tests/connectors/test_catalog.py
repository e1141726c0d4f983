"""Dataset discovery, source specs, describe(), river's Yeast, and every real dataset's shape."""

import gzip
import os
import pathlib
import pickle

import pytest

from connectors.arff import ArffSource
from connectors.bundled import YeastSource
from connectors.catalog import (
    DatasetInfo,
    default_data_dir,
    describe,
    discover,
    open_dataset,
    open_source,
    register_scheme,
    unregister_scheme,
)
from connectors.tabular import CsvSource, JsonlSource
from connectors.xmc import XmcSource

HERE = pathlib.Path(__file__).resolve().parents[1]  # tests/
DATA = HERE / "data"
REAL = pathlib.Path(os.environ.get("STREAM_XML_DATA") or HERE / ".." / ".." / "shared" / "datasets").resolve()
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"no datasets folder at {REAL}")
slow = pytest.mark.slow

# From /work/shared/datasets/README.md: instances, features, labels, cardinality, density,
# rows with an empty label set.
README = {
    "emotions": (593, 72, 6, 1.869, 0.311, 0),
    "scene": (2407, 294, 6, 1.074, 0.179, 0),
    "enron": (1702, 1001, 53, 3.378, 0.064, 0),
    "medical": (978, 1449, 45, 1.245, 0.028, 0),
    "flags": (194, 19, 7, 3.392, 0.485, 0),
    "genbase": (662, 1186, 27, 1.252, 0.046, 0),
    "cal500": (502, 68, 174, 26.044, 0.150, 0),
    "corel5k-sparse": (5000, 499, 374, 3.522, 0.009, 0),
    "bibtex": (7395, 1836, 159, 2.402, 0.015, 0),
    "delicious": (16105, 500, 983, 19.020, 0.019, 14),
    "tmc2007-500": (28596, 500, 22, 2.158, 0.098, 0),
    "yeast": (2417, 103, 14, 4.237, 0.303, 0),
    "foodtruck": (407, 21, 12, 2.290, 0.191, 0),
    "llog": (1460, 1004, 75, 1.180, 0.016, 207),
    "stackex-chess": (1675, 585, 227, 2.411, 0.011, 3),
    "eukaryote-go": (7766, 12689, 22, 1.146, 0.052, 0),
    "plant978": (978, 440, 12, 1.079, 0.090, 0),
    "human3106": (3106, 440, 14, 1.185, 0.085, 0),
    "20ng-f": (19300, 1006, 20, 1.029, 0.051, 0),
    "reuters-k500-ex2": (6000, 500, 103, 1.462, 0.014, 0),
    "imdb": (120919, 1001, 28, 2.000, 0.071, 0),
}
BIG = {"imdb", "delicious", "tmc2007-500", "20ng-f", "bibtex", "eukaryote-go"}


def gz(path: pathlib.Path, text: str) -> str:
    with gzip.open(path, "wt") as f:
        f.write(text)
    return str(path)


ARFF = "@relation r\n@attribute f numeric\n@attribute l {0,1}\n@data\n1,1\n2,0\n"
MEKA = "@relation 'r: -C 1'\n@attribute l {0,1}\n@attribute f numeric\n@data\n1,1\n0,2\n"
XML = '<labels xmlns="http://mulan.sourceforge.net/labels"><label name="l"/></labels>'


@pytest.fixture
def folder(tmp_path):
    """A data folder with one dataset of each naming pattern, plus files that are none."""
    (tmp_path / "Alpha.arff").write_text(ARFF)
    (tmp_path / "alpha.xml").write_text(XML)
    gz(tmp_path / "Beta-train.arff.gz", ARFF)
    gz(tmp_path / "Beta-test.arff.gz", ARFF)
    gz(tmp_path / "beta.xml.gz", XML)
    gz(tmp_path / "gamma.orig.arff.gz", ARFF)
    gz(tmp_path / "gamma.xml.gz", XML)
    (tmp_path / "Delta-sparse.arff").write_text(ARFF)
    (tmp_path / "Delta.xml").write_text(XML)
    (tmp_path / "EPS.arff").write_text(MEKA)
    (tmp_path / "zeta.txt").write_text("2 3 2\n0 1:1\n1 2:1\n")
    (tmp_path / "notes.txt").write_text("just some notes\n")  # not N D L: not a dataset
    (tmp_path / "orphan.xml").write_text(XML)
    sub = tmp_path / "more"
    sub.mkdir()
    (sub / "eps.arff").write_text(MEKA)  # same name as EPS.arff above
    return tmp_path


def test_discover_finds_one_dataset_per_pattern(folder):
    infos = {i.name: i for i in discover(folder)}
    assert sorted(infos) == ["alpha", "beta", "delta-sparse", "eps", "gamma", "more/eps", "zeta"]
    f = str(folder)
    assert infos["alpha"] == DatasetInfo("alpha", (f"{f}/Alpha.arff",), f"{f}/alpha.xml", "mulan")
    assert infos["beta"].paths == (f"{f}/Beta-train.arff.gz", f"{f}/Beta-test.arff.gz")
    assert infos["beta"].labels_xml == f"{f}/beta.xml.gz"
    assert infos["gamma"].paths == (f"{f}/gamma.orig.arff.gz",) and infos["gamma"].format == "mulan"
    assert infos["delta-sparse"].labels_xml == f"{f}/Delta.xml"
    assert infos["eps"].format == "meka" and infos["eps"].labels_xml is None
    assert infos["more/eps"].paths == (f"{f}/more/eps.arff",)
    assert infos["zeta"] == DatasetInfo("zeta", (f"{f}/zeta.txt",), None, "xmc")


def test_open_dataset_by_name_or_info(folder):
    beta = open_dataset("BETA", data_dir=folder)
    assert isinstance(beta, ArffSource) and beta.name == "beta" and beta.labels == ["l"]
    assert [r.x["f"] for r in beta] == [1.0, 2.0, 1.0, 2.0]  # train, then test
    assert isinstance(open_dataset(DatasetInfo("z", (str(folder / "zeta.txt"),), None, "xmc")), XmcSource)
    assert open_dataset("eps", data_dir=folder).labels == ["l"]
    with pytest.raises(ValueError, match="no dataset 'omega' .* available: alpha, beta"):
        open_dataset("omega", data_dir=folder)


def test_default_data_dir_comes_from_the_environment(monkeypatch, folder):
    monkeypatch.delenv("STREAM_XML_DATA", raising=False)
    assert default_data_dir() is None
    with pytest.raises(ValueError, match="set \\$STREAM_XML_DATA"):
        open_dataset("alpha")
    monkeypatch.setenv("STREAM_XML_DATA", str(folder))
    assert default_data_dir() == str(folder)
    assert open_source("Alpha").name == "alpha"


def test_open_source_by_path_picks_the_reader_and_the_sibling_xml(folder):
    alpha = open_source(str(folder / "Alpha.arff"))
    assert isinstance(alpha, ArffSource) and alpha.labels_xml == str(folder / "alpha.xml")
    train = open_source(str(folder / "Beta-train.arff.gz"))
    assert train.labels_xml == str(folder / "beta.xml.gz")
    eps = open_source(str(folder / "EPS.arff"))
    assert eps.labels_xml is None and eps.labels == ["l"]
    assert open_source(str(folder / "Alpha.arff"), label_count=-1).labels_xml is None
    assert isinstance(open_source(str(folder / "zeta.txt")), XmcSource)
    jsonl = open_source(str(DATA / "tiny.jsonl"))
    assert isinstance(jsonl, JsonlSource)
    csv = open_source(str(DATA / "tiny.csv"), label_columns=["sports", "news"])
    assert isinstance(csv, CsvSource) and csv.labels == ["sports", "news"]


def test_open_source_refuses_what_it_cannot_open(folder):
    with pytest.raises(ValueError, match="needs label_columns"):
        open_source(str(DATA / "tiny.csv"))
    with pytest.raises(TypeError, match=r"options \['label_columns'\] do not apply to ARFF"):
        open_source(str(folder / "Alpha.arff"), label_columns=["l"])
    with pytest.raises(TypeError, match="do not apply to the bundled"):
        open_source("yeast", seed=3)
    notes = folder / "notes.md"
    notes.write_text("x")
    with pytest.raises(ValueError, match="no reader for"):
        open_source(str(notes))
    with pytest.raises(ValueError, match=r"unknown source 'omega'.*bundled \['yeast'\].*datasets in .*alpha, beta"):
        open_source("omega", data_dir=folder)


def test_schemes_plug_in_without_editing_the_catalog():
    calls = []

    def factory(rest, on_error, **options):
        calls.append((rest, on_error, options))
        return YeastSource()

    register_scheme("fake", factory)
    try:
        assert open_source("FAKE:n=5,seed=2", on_error="skip", window=3).name == "yeast"
        assert calls == [("n=5,seed=2", "skip", {"window": 3})]
        with pytest.raises(ValueError, match=r"schemes \[.*'fake:'"):
            open_source("nothing-here", data_dir=None)
    finally:
        unregister_scheme("fake")
    with pytest.raises(ValueError, match="unknown source 'fake:x'"):
        open_source("fake:x")


def test_describe_counts_against_the_handmade_files():
    stats = describe(ArffSource(str(DATA / "tiny-dense.arff"), labels_xml=str(DATA / "tiny.xml")))
    assert stats == {
        "name": "tiny-dense", "instances": 4, "features": 5, "labels": 3, "cardinality": 1.5,
        "density": 0.5, "empty_labelsets": 1, "distinct_labelsets": 4, "unlabelled": 0, "skipped": 0,
    }
    # nothing declared up front: features and labels are what the stream shows
    stats = describe(JsonlSource(str(DATA / "tiny.jsonl")))
    assert (stats["instances"], stats["unlabelled"], stats["features"], stats["labels"]) == (4, 1, 4, 3)
    assert (stats["cardinality"], stats["empty_labelsets"], stats["distinct_labelsets"]) == (1.0, 1, 3)


def test_yeast_source_follows_river():
    from river.datasets import Yeast

    src = YeastSource()
    records = list(src)
    river_rows = list(Yeast())
    assert len(records) == len(river_rows) == 2417
    assert src.labels == [f"Class{i}" for i in range(1, 15)]
    assert src.features == [f"Att{i}" for i in range(1, 104)]
    for record, (x, y) in zip(records, river_rows):
        assert record.x == x and record.y == {label for label, on in y.items() if on}
    assert records[41].meta == {"source": "yeast", "line": 42}
    assert next(iter(pickle.loads(pickle.dumps(src)))) == records[0]
    assert open_source("Yeast").name == "yeast"


# --------------------------------------------------------------------------- real data


@needs_real
def test_every_file_of_the_real_folder_belongs_to_exactly_one_dataset():
    infos = discover(REAL)
    assert sorted(i.name for i in infos) == sorted(README)
    used = [p for i in infos for p in i.paths] + [i.labels_xml for i in infos if i.labels_xml]
    data_files = sorted(str(p) for p in REAL.iterdir() if p.name.endswith(".gz"))
    assert sorted(used) == data_files  # every file used, none twice


@needs_real
def test_yeast_from_river_equals_the_mulan_file():
    mulan = open_dataset("yeast", data_dir=REAL)
    assert mulan.labels == YeastSource().labels and mulan.features == YeastSource().features
    assert [(r.x, r.y) for r in mulan] == [(r.x, r.y) for r in YeastSource()]


@needs_real
def test_scene_streams_train_then_test():
    files = [os.path.basename(r.meta["file"]) for r in open_dataset("scene", data_dir=REAL)]
    assert files == ["scene-train.arff.gz"] * 1211 + ["scene-test.arff.gz"] * 1196


@needs_real
@pytest.mark.parametrize("name", [pytest.param(n, marks=slow) if n in BIG else n for n in README])
def test_real_dataset_has_the_readme_shape(name):
    instances, features, labels, cardinality, density, empty = README[name]
    stats = describe(open_dataset(name, data_dir=REAL))
    assert (stats["instances"], stats["features"], stats["labels"]) == (instances, features, labels)
    # the README rounds to 3 decimals (emotions: 1108 / 593 = 1.86847, listed as 1.869)
    assert stats["cardinality"] == pytest.approx(cardinality, abs=1e-3)
    assert stats["density"] == pytest.approx(density, abs=1e-3)
    assert stats["empty_labelsets"] == empty
    assert stats["unlabelled"] == stats["skipped"] == 0


# --------------------------------------------------------------------------- issue 21: lengths, missing files


def test_a_path_that_names_no_file_is_not_found_and_a_near_name_is_suggested(folder):
    for spec in ("missing.arff", str(folder / "nothing.csv"), "sub/dir/stream.jsonl.gz"):
        with pytest.raises(FileNotFoundError, match="file not found: "):
            open_source(spec, data_dir=folder)
    with pytest.raises(ValueError, match=r"unknown source 'yaest' \(did you mean 'yeast'\?\)"):
        open_source("yaest", data_dir=folder)


def test_record_count_of_the_small_formats_equals_what_they_yield():
    from connectors.counting import record_count

    for source in (open_source(str(DATA / "tiny.jsonl")), open_source(str(DATA / "tiny.csv"), label_columns=["sports", "news"]),
                   YeastSource()):
        assert record_count(source) == sum(1 for _ in source)
    assert record_count(YeastSource(), max_bytes=0) == 2417  # declared, not counted
    assert record_count(open_source(str(DATA / "tiny.jsonl")), max_bytes=0) is None


@needs_real
def test_record_count_of_every_real_dataset_equals_the_readme():
    from connectors.counting import record_count

    for info in discover(REAL):
        assert record_count(open_dataset(info)) == README[info.name][0], info.name
