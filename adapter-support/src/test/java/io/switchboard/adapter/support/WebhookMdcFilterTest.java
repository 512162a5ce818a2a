package io.switchboard.adapter.support;

import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A webhook request's log lines carry its channel and account (from the path, never the body), only while it runs. */
class WebhookMdcFilterTest {

    Map<String, String> seen(String path) throws Exception {
        Map<String, String> seen = new HashMap<>();
        MockFilterChain chain = new MockFilterChain() {
            @Override
            public void doFilter(jakarta.servlet.ServletRequest request, jakarta.servlet.ServletResponse response) {
                seen.put("channel", MDC.get("channel"));
                seen.put("account", MDC.get("account"));
            }
        };
        MockHttpServletRequest request = new MockHttpServletRequest("POST", path);
        new WebhookMdcFilter().doFilter(request, new MockHttpServletResponse(), chain);
        assertThat(MDC.get("channel")).isNull();
        assertThat(MDC.get("account")).isNull();
        return seen;
    }

    @Test
    void channelAndAccountComeFromTheWebhookPath() throws Exception {
        assertThat(seen("/webhooks/telegram/default")).containsEntry("channel", "telegram").containsEntry("account", "default");
        assertThat(seen("/webhooks/phone/pbx-1/asterisk-cdr")).containsEntry("channel", "phone").containsEntry("account", "pbx-1");
        assertThat(seen("/contact")).containsEntry("channel", "webform").containsEntry("account", "default");
    }

    @Test
    void otherPathsAndOddSegmentsAreLeftOut() throws Exception {
        assertThat(seen("/api/conversations")).containsEntry("channel", null).containsEntry("account", null);
        assertThat(seen("/webhooks/vk/" + "a".repeat(100))).containsEntry("channel", "vk").containsEntry("account", null);
        assertThat(seen("/webhooks/vk/a%22b")).containsEntry("account", null);
    }
}
