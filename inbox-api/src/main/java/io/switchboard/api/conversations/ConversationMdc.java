package io.switchboard.api.conversations;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.MDC;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

import java.util.Map;
import java.util.regex.Pattern;

/**
 * The conversation of a request under {@code /api/conversations/{id}} in the MDC, so every log line of
 * its handling (a reply that could not be queued, a refused merge) names it; structured logs carry it
 * as the field {@code conversation}, as the router's do. {@link Replies} adds the {@code channel} the
 * reply goes through. Both are removed when the request ends.
 */
@Configuration(proxyBeanMethods = false)
class ConversationMdc implements WebMvcConfigurer, HandlerInterceptor {

    /** Conversation ids are ours (UUIDs and the like); anything else from the path stays out of the logs. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_:.-]{1,64}");

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(this).addPathPatterns("/api/conversations/*", "/api/conversations/*/**");
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE) instanceof Map<?, ?> vars
                && vars.get("id") instanceof String id && ID.matcher(id).matches()) {
            MDC.put("conversation", id);
        }
        return true;
    }

    @Override
    public void afterCompletion(HttpServletRequest request, HttpServletResponse response, Object handler, Exception ex) {
        MDC.remove("conversation");
        MDC.remove("channel");
    }
}
