"""XML of PutBucketWebsite / GetBucketWebsite (``WebsiteConfiguration``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ferry.core import website as ws
from ferry.core.errors import OssError
from ferry.protocol.xmlcodec import children, element, leaf, leaves, parse, serialize, text_of
from ferry.protocol.xmlvalues import bool_of, int_of, required


def _headers(node: ET.Element, name: str) -> tuple[ws.IncludeHeader, ...]:
    return tuple(
        ws.IncludeHeader(required(h, "Key"), text_of(h, "Equals", strip=False) or text_of(h, "Value") or "")
        for h in children(node, name)
    )


def _mirror_headers(node: ET.Element | None) -> ws.MirrorHeaders | None:
    if node is None:
        return None
    return ws.MirrorHeaders(
        pass_all=bool_of(node, "PassAll"),
        pass_=tuple((n.text or "").strip() for n in node.findall("Pass")),
        remove=tuple((n.text or "").strip() for n in node.findall("Remove")),
        set_=tuple(
            ws.IncludeHeader(required(s, "Key"), text_of(s, "Value", strip=False) or "")
            for s in children(node, "Set")
        ),
    )


def _redirect(node: ET.Element) -> ws.Redirect:
    return ws.Redirect(
        redirect_type=required(node, "RedirectType"),
        pass_query_string=bool_of(node, "PassQueryString"),
        replace_key_with=text_of(node, "ReplaceKeyWith", strip=False),
        replace_key_prefix_with=text_of(node, "ReplaceKeyPrefixWith", strip=False),
        protocol=text_of(node, "Protocol"),
        host_name=text_of(node, "HostName"),
        http_redirect_code=int_of(node, "HttpRedirectCode"),
        mirror_url=text_of(node, "MirrorURL"),
        mirror_url_slave=text_of(node, "MirrorURLSlave"),
        mirror_url_probe=text_of(node, "MirrorURLProbe"),
        mirror_pass_query_string=bool_of(node, "MirrorPassQueryString"),
        mirror_follow_redirect=bool_of(node, "MirrorFollowRedirect"),
        mirror_check_md5=bool_of(node, "MirrorCheckMd5"),
        mirror_headers=_mirror_headers(node.find("MirrorHeaders")),
    )


def parse_website(body: bytes) -> ws.WebsiteConfiguration:
    root = parse(body, "WebsiteConfiguration")
    index, error = root.find("IndexDocument"), root.find("ErrorDocument")
    rules = []
    rules_node = root.find("RoutingRules")
    for node in children(rules_node, "RoutingRule") if rules_node is not None else ():
        cond, redirect = node.find("Condition"), node.find("Redirect")
        if cond is None or redirect is None:
            raise OssError("MalformedXML", "A RoutingRule needs a Condition and a Redirect.")
        number = int_of(node, "RuleNumber")
        if number is None:
            raise OssError("MalformedXML", "A RoutingRule needs a RuleNumber.")
        condition = ws.RoutingCondition(
            key_prefix_equals=text_of(cond, "KeyPrefixEquals", strip=False),
            key_suffix_equals=text_of(cond, "KeySuffixEquals", strip=False),
            http_error_code_returned_equals=int_of(cond, "HttpErrorCodeReturnedEquals"),
            include_headers=_headers(cond, "IncludeHeader"),
        )
        rules.append(ws.RoutingRule(number, condition, _redirect(redirect)))
    return ws.WebsiteConfiguration(
        index_suffix=text_of(index, "Suffix", strip=False) if index is not None else None,
        support_sub_dir=(bool_of(index, "SupportSubDir") or False) if index is not None else False,
        index_type=(int_of(index, "Type") or 0) if index is not None else 0,
        error_key=text_of(error, "Key", strip=False) if error is not None else None,
        error_status=(int_of(error, "HttpStatus") or 404) if error is not None else 404,
        rules=tuple(rules),
    )


def _redirect_element(r: ws.Redirect) -> ET.Element:
    mirror = r.redirect_type == "Mirror"
    # OSS answers a Mirror rule's PassQueryString with its MirrorPassQueryString.
    pass_query = r.mirror_pass_query_string if mirror else r.pass_query_string
    h = r.mirror_headers
    return element(
        "Redirect",
        leaf("RedirectType", r.redirect_type),
        leaf("PassQueryString", pass_query),
        leaf("ReplaceKeyWith", r.replace_key_with),
        leaf("ReplaceKeyPrefixWith", r.replace_key_prefix_with),
        leaf("Protocol", r.protocol),
        leaf("HostName", r.host_name),
        leaf("HttpRedirectCode", r.http_redirect_code),
        leaf("MirrorURL", r.mirror_url),
        leaf("MirrorURLSlave", r.mirror_url_slave),
        leaf("MirrorURLProbe", r.mirror_url_probe),
        leaf("MirrorPassQueryString", r.mirror_pass_query_string),
        leaf("MirrorFollowRedirect", r.mirror_follow_redirect),
        leaf("MirrorCheckMd5", r.mirror_check_md5),
        element(
            "MirrorHeaders",
            leaf("PassAll", h.pass_all),
            *leaves("Pass", h.pass_),
            *leaves("Remove", h.remove),
            *(element("Set", leaf("Key", s.key), leaf("Value", s.equals)) for s in h.set_),
        )
        if h is not None
        else None,
    )


def website(config: ws.WebsiteConfiguration) -> bytes:
    rules = [
        element(
            "RoutingRule",
            leaf("RuleNumber", r.rule_number),
            element(
                "Condition",
                leaf("KeyPrefixEquals", r.condition.key_prefix_equals),
                leaf("KeySuffixEquals", r.condition.key_suffix_equals),
                leaf("HttpErrorCodeReturnedEquals", r.condition.http_error_code_returned_equals),
                *(
                    element("IncludeHeader", leaf("Key", h.key), leaf("Equals", h.equals))
                    for h in r.condition.include_headers
                ),
            ),
            _redirect_element(r.redirect),
        )
        for r in config.rules
    ]
    root = element(
        "WebsiteConfiguration",
        element(
            "IndexDocument",
            leaf("Suffix", config.index_suffix),
            leaf("SupportSubDir", config.support_sub_dir),
            leaf("Type", config.index_type),
        )
        if config.index_suffix is not None
        else None,
        element("ErrorDocument", leaf("Key", config.error_key), leaf("HttpStatus", config.error_status))
        if config.error_key is not None
        else None,
        element("RoutingRules", *rules) if rules else None,
    )
    return serialize(root)
