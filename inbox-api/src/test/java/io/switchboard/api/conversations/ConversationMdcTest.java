package io.switchboard.api.conversations;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.servlet.HandlerMapping;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A request under /api/conversations/{id} logs with its conversation (and the reply's channel) in the MDC, only while it runs. */
class ConversationMdcTest {

    final ConversationMdc mdc = new ConversationMdc();

    @AfterEach
    void clear() {
        MDC.clear();
    }

    MockHttpServletRequest request(String id) {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/api/conversations/" + id + "/messages");
        request.setAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE, Map.of("id", id));
        return request;
    }

    @Test
    void theConversationIsInTheMdcWhileTheRequestIsHandled_andTheReplysChannelGoesWithIt() {
        MockHttpServletRequest request = request("3f2a9c1e-1111-4c2b-9d7e-5b3c2a1f0e9d");
        MockHttpServletResponse response = new MockHttpServletResponse();
        assertThat(mdc.preHandle(request, response, new Object())).isTrue();
        assertThat(MDC.get("conversation")).isEqualTo("3f2a9c1e-1111-4c2b-9d7e-5b3c2a1f0e9d");
        MDC.put("channel", "telegram"); // as Replies does for the reply it queues
        mdc.afterCompletion(request, response, new Object(), null);
        assertThat(MDC.get("conversation")).isNull();
        assertThat(MDC.get("channel")).isNull();
    }

    @Test
    void aPathValueThatIsNoIdStaysOutOfTheLogs() {
        MockHttpServletRequest request = request("x\"},{\"level\":\"ERROR");
        assertThat(mdc.preHandle(request, new MockHttpServletResponse(), new Object())).isTrue();
        assertThat(MDC.get("conversation")).isNull();
    }
}
