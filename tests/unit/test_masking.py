"""One masking for everything that leaves the bases (SUM-3, SEC-3)."""

from __future__ import annotations

import pytest

from actops.messaging.masking import leaks, mask, mask_name


@pytest.mark.req("SUM-3", "SEC-3")
@pytest.mark.parametrize("raw, masked", [
    ("联系人电话 13812345678", "联系人电话 138****5678"),
    ("+86 138 1234 5678 转", "138****5678 转"),
    ("座机 010-62345678", "座机 010-****5678"),
    ("邮箱 zhang.wei@huadong.com.cn", "邮箱 z***@huadong.com.cn"),
    ("身份证 11010519491231002X 已核", "身份证 110***********002X 已核"),
    ("订单号 202611230001234567 不是身份证", "订单号 202611230001234567 不是身份证"),
    ("金额 13,800.00 元，2026-11-23", "金额 13,800.00 元，2026-11-23"),
])
def test_phone_email_and_id_numbers_are_masked_and_nothing_else(raw, masked):
    assert mask(raw) == masked
    assert leaks(mask(raw)) == []


@pytest.mark.req("SUM-3")
def test_customer_and_contact_names_given_by_the_caller_are_masked():
    text = "华东实业有限公司（联系人 张伟）对活动满意；华东实业下次再办"
    out = mask(text, names=["华东实业有限公司", "华东实业", "张伟"])
    assert out == "华***（联系人 张*）对活动满意；华***下次再办"
    assert leaks(out, ["华东实业", "张伟"]) == []
    assert mask_name("李") == "*" and mask(None) == ""
