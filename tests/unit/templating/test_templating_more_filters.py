"""The ansible.builtin filters fleet had not (comment, dates, random, password_hash, sizes,
maths, URLs, paths) and the collection filters roles use (ipaddr family, json_query), each
rendered by fleet and by ansible-core (with ansible.utils and community.general) and compared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import plain

from fleet.errors import TemplateError
from fleet.templating import Templar

EXPRESSIONS = r"""
{{ 'Ansible managed' | comment }}
{{ 'a\nb' | comment('c') }}
{{ 'a\n\nb' | comment('cblock') }}
{{ 'x' | comment('xml') }}
{{ 'x' | comment('erlang', prefix_count=2, postfix_count=3) }}
{{ 'x' | comment(decoration='; ') }}
{{ 'x' | comment('plain', beginning='BEGIN', end='END', decoration='>> ') }}
{{ '2016-08-14 20:00:12' | to_datetime }}
{{ (('2016-08-14 20:00:12' | to_datetime) - ('2016-08-04 18:00:00' | to_datetime)).days }}
{{ '%Y-%m-%d' | strftime(0, utc=true) }}
{{ '%Y-%m-%d %H:%M' | strftime(1441357287, utc=True) }}
{{ 60 | random(seed='web1') }}
{{ ['a','b','c','d'] | random(seed='web1') }}
{{ 100 | random(start=10, step=5, seed='x') }}
{{ [1,2,3,4,5] | shuffle(seed='web1') }}
{{ 'secret' | password_hash('sha512', 'mysalt') }}
{{ 'secret' | password_hash('sha512', 'mysalt', rounds=5000) }}
{{ 'secret' | password_hash('sha256', 'mysalt') }}
{{ 'secret' | password_hash('md5', 'mysalt') }}
{{ 1048576 | human_readable }}
{{ 1048576 | human_readable(unit='G') }}
{{ 1000 | human_readable(isbits=True) }}
{{ '10M' | human_to_bytes }}
{{ '1.5 GB' | human_to_bytes }}
{{ '2' | human_to_bytes('K') }}
{{ '1Mb' | human_to_bytes(isbits=True) }}
{{ 8 | log(2) }}
{{ 100 | log(10) }}
{{ 2 | pow(10) }}
{{ 27 | root(3) }}
{{ [1,2,3] | permutations(2) | list }}
{{ [1,2,3] | combinations(2) | list }}
{{ [{'n':'a','v':1},{'n':'b','v':2}] | rekey_on_member('n') }}
{{ 'http://user:pw@www.acme.com:9000/dir/index.html?query=term#frag' | urlsplit }}
{{ 'http://www.acme.com:9000/dir/index.html' | urlsplit('hostname') }}
{{ 'a%20b+c' | urldecode }}
{{ 'web1' | to_uuid }}
{{ ['/a/b/c', '/a/b/d'] | commonpath }}
{{ '/etc/x/y' | relpath('/etc') }}
{{ 'C:\\x\\y.txt' | win_basename }}
{{ '/etc/hosts' | splitext }}
{{ ['/etc', 'x', 'y'] | path_join }}
{{ 'a.b*c' | regex_escape }}
{{ [1,2] | zip(['a','b']) | list }}
{{ [1,2,3] | zip_longest(['a'], fillvalue='-') | list }}
{{ [1,2] | product(['a','b']) | list }}
{{ [{'name':'a','g':['x','y']}] | subelements('g') }}
{{ '192.168.0.1' | ansible.utils.ipaddr }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr }}
{{ 'foo' | ansible.utils.ipaddr }}
{{ ['192.168.0.1', 'x', '10.0.0.0/8', '::1'] | ansible.utils.ipaddr }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('address') }}
{{ '192.168.0.0/24' | ansible.utils.ipaddr('address') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('host') }}
{{ '192.168.0.1' | ansible.utils.ipaddr('host') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('network') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('netmask') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('prefix') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('broadcast') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('subnet') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('cidr') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('net') }}
{{ '192.168.0.0/24' | ansible.utils.ipaddr('net') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('size') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('host/prefix') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('first_usable') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('last_usable') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('range_usable') }}
{{ '192.168.0.1/24' | ansible.utils.ipaddr('revdns') }}
{{ '192.168.0.1' | ansible.utils.ipaddr('int') }}
{{ '192.168.0.1' | ansible.utils.ipaddr('private') }}
{{ '8.8.8.8' | ansible.utils.ipaddr('private') }}
{{ '8.8.8.8' | ansible.utils.ipaddr('public') }}
{{ '10.1.1.1' | ansible.utils.ipaddr('public') }}
{{ '192.168.0.0/24' | ansible.utils.ipaddr(5) }}
{{ '192.168.0.0/24' | ansible.utils.ipaddr('-1') }}
{{ '192.168.0.5' | ansible.utils.ipaddr('192.168.0.0/24') }}
{{ '10.0.0.5' | ansible.utils.ipaddr('192.168.0.0/24') }}
{{ '3232235521' | ansible.utils.ipaddr }}
{{ '192.168.0.1' | ansible.utils.ipv4 }}
{{ '::1' | ansible.utils.ipv4 }}
{{ '::1' | ansible.utils.ipv6 }}
{{ '192.168.0.1' | ansible.utils.ipv6 }}
{{ '192.168.0.1' | ansible.utils.ipv4('address') }}
{{ '2001:db8::1/64' | ansible.utils.ipaddr('network') }}
{{ '2001:db8::1/64' | ansible.utils.ipaddr('wrap') }}
{{ '2001:db8::1' | ansible.utils.ipwrap }}
{{ ['192.168.0.1', '2001:db8::1', 'host.example'] | ansible.utils.ipwrap }}
{{ '192.168.0.1' | ansible.utils.ipmath(5) }}
{{ '192.168.0.1/24' | ansible.utils.ipmath(-2) }}
{{ '192.168.0.0/24' | ansible.utils.nthhost(10) }}
{{ '192.168.0.0/16' | ansible.utils.ipsubnet(20) }}
{{ '192.168.0.0/16' | ansible.utils.ipsubnet(20, 0) }}
{{ '192.168.0.0/16' | ansible.utils.ipsubnet(20, 2) }}
{{ '192.168.0.0/16' | ansible.utils.ipsubnet(20, -1) }}
{{ '192.168.144.5' | ansible.utils.ipsubnet(20) }}
{{ '192.168.0.0/24' | ansible.utils.network_in_usable('192.168.0.1') }}
{{ '192.168.0.0/24' | ansible.utils.network_in_usable('192.168.0.255') }}
{{ '192.168.0.0/16' | ansible.utils.network_in_network('192.168.1.0/24') }}
{{ ['192.168.0.0/24', '192.168.1.0/24'] | ansible.utils.cidr_merge }}
{{ {'a': [{'n': 1}, {'n': 2}]} | community.general.json_query('a[].n') }}
{{ [{'name': 'x', 'port': 80}, {'name': 'y', 'port': 8080}] | community.general.json_query("[?port > `100`].name") }}
""".strip().splitlines()


@pytest.fixture(scope="module")
def templar() -> Templar:
    return Templar()


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_filter_as_ansible(source: str, templar: Templar, ansible_render: Callable[..., Any]) -> None:
    assert plain(templar.render(source, {})) == plain(ansible_render(source))


def test_ansible_managed_comment_as_roles_write_it(templar: Templar) -> None:
    assert templar.render("{{ ansible_managed | comment }}", {"ansible_managed": "Ansible managed"}) == \
        "#\n# Ansible managed\n#"


def test_password_hash_default_is_sha512_crypt_with_a_random_salt(templar: Templar) -> None:
    first = templar.render("{{ 'secret' | password_hash }}", {})
    second = templar.render("{{ 'secret' | password_hash }}", {})
    assert first.startswith("$6$rounds=656000$") and first != second


@pytest.mark.parametrize(("source", "message"), [
    ("{{ 'x' | comment('nope') }}", "unknown style"),
    ("{{ 'x' | password_hash('nope') }}", "supported passlib algorithms"),
    ("{{ '10 parsecs' | human_to_bytes }}", "human_to_bytes"),
    ("{{ 'http://x' | urlsplit('nope') }}", "unknown URL component"),
    ("{{ '10.0.0.1' | ipaddr('nope') }}", "unknown filter type"),
    ("{{ {} | json_query('[') }}", "JMESPathError"),
])
def test_bad_input_is_one_clear_error(source: str, message: str, templar: Templar) -> None:
    with pytest.raises(TemplateError, match=message):
        templar.render(source, {})


@pytest.mark.parametrize(("short", "fqcn"), [
    ("{{ '192.168.0.1/24' | ipaddr('address') }}", "{{ '192.168.0.1/24' | ansible.utils.ipaddr('address') }}"),
    ("{{ '2001:db8::1' | ipv6('address') }}", "{{ '2001:db8::1' | ansible.utils.ipv6('address') }}"),
    ("{{ [{'a': 1}] | json_query('[0].a') }}", "{{ [{'a': 1}] | community.general.json_query('[0].a') }}"),
])
def test_short_names_as_the_fqcn(short: str, fqcn: str, templar: Templar) -> None:
    assert templar.render(short, {}) == templar.render(fqcn, {})


def test_random_is_drawn_at_each_render(templar: Templar) -> None:
    draws = {templar.render("{{ 1000000 | random }}", {}) for _ in range(5)}
    assert len(draws) > 1
