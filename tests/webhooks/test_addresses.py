"""The address classifier and URL rules behind the SSRF checks (pure functions)."""

from __future__ import annotations

import ipaddress

import pytest

from webhooks.addresses import AddressRefused, Target, check_url, classify, parse_url, url_origin


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.178.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "metadata"),  # AWS, GCP, Azure
        ("fd00:ec2::254", "metadata"),  # AWS over IPv6
        ("100.100.100.200", "metadata"),  # Alibaba
        ("169.254.10.20", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("192.0.2.10", "private"),  # documentation range
        ("240.0.0.1", "private"),  # reserved, which Python counts as private
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.1.1.1", "private"),
        ("2002:7f00:1::1", "loopback"),  # 6to4 around 127.0.0.1
        ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 around 169.254.169.254
        ("fec0::1", "site-local"),  # deprecated, still routed inside some networks
    ],
)
def test_non_public_addresses_are_refused(address, reason):
    found = classify(ipaddress.ip_address(address))
    assert found is not None and reason in found, found


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert classify(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://partner.example/hook", "https"),
        ("ftp://partner.example/hook", "https"),
        ("https:///hook", "host"),
        ("https://user:pw@partner.example/hook", "user name"),
        ("https://partner.example/hook#frag", "fragment"),
        ("https://partner.example:99999/", "valid URL"),
        ("https://1.1.1.1:0/", "port"),
        ("", "1 to"),
        ("https://partner.example/" + "x" * 2000, "1 to"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url, message):
    with pytest.raises(AddressRefused, match=message):
        parse_url(url, allow_http=False)


def test_url_parts_and_the_pinned_url():
    target = parse_url("https://Partner.Example:8443/in/hook?x=1", allow_http=False)
    assert target == Target("https", "partner.example", 8443, "/in/hook?x=1")
    assert target.url_for(ipaddress.ip_address("93.184.215.14")) == "https://93.184.215.14:8443/in/hook?x=1"
    assert target.host_header == "partner.example:8443"
    v6 = parse_url("http://[2606:4700::1]/", allow_http=True)
    assert v6.host_header == "[2606:4700::1]" and v6.url_for(ipaddress.ip_address("2606:4700::1")) == (
        "http://[2606:4700::1]:80/"
    )


async def test_names_are_resolved_and_every_address_checked():
    with pytest.raises(AddressRefused, match="loopback"):
        await check_url("https://localhost/hook", allow_http=False, allow_private=False)
    with pytest.raises(AddressRefused, match="does not resolve"):
        await check_url("https://no-such-host.invalid/hook", allow_http=False, allow_private=False)
    await check_url("https://localhost/hook", allow_http=False, allow_private=True)  # on-premise
    await check_url("https://93.184.215.14/hook", allow_http=False, allow_private=False)


def test_logs_and_the_audit_trail_name_only_the_origin():
    assert url_origin("https://cafm.example:8443/hooks/in?token=geheim") == "https://cafm.example:8443"
