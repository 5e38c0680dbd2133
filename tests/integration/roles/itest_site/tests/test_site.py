"""testinfra tests of the itest_site role (run by `fleet verify`, or by plain `pytest --hosts=...`)."""

ROOT = "/srv/test-verify"


def test_site_directory(host):
    directory = host.file(ROOT)
    assert directory.is_directory
    assert directory.mode == 0o755
    assert directory.user == "root"


def test_page_names_its_host(host):
    page = host.file(f"{ROOT}/index.html")
    assert page.mode == 0o644
    assert page.content_string == f"Hello from {host.check_output('hostname')}\n"


def test_config(host):
    assert host.file(f"{ROOT}/app.conf").content_string == "listen=8080\n"


def test_python3_is_there(host):
    assert host.exists("python3")
