package io.switchboard.api.security;

import io.switchboard.api.ApiException;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.servlet.HandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;
import org.springframework.web.servlet.config.annotation.InterceptorRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

import java.util.Map;

/**
 * Every endpoint under /api/conversations/{id} answers 404 for a conversation the caller may not
 * see ({@link Visibility}), as if it did not exist: reading, changing, replying, notes, presence,
 * merging. One check in front of all of them, so a new endpoint there cannot forget it.
 * Also: a merged conversation takes no more replies, notes or snoozes (409 naming its successor,
 * where they belong; ADR 0141).
 */
@Configuration(proxyBeanMethods = false)
class ConversationAccess implements WebMvcConfigurer, HandlerInterceptor {

    private static final java.util.regex.Pattern CLOSED_WHEN_MERGED = java.util.regex.Pattern.compile("/(messages|notes|snooze)/?$");

    private final Visibility visibility;
    private final InboxStore store;

    ConversationAccess(Visibility visibility, InboxStore store) {
        this.visibility = visibility;
        this.store = store;
    }

    @Override
    public void addInterceptors(InterceptorRegistry registry) {
        registry.addInterceptor(this).addPathPatterns("/api/conversations/*", "/api/conversations/*/**");
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        Object vars = request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
        if (!(vars instanceof Map<?, ?> map) || !(map.get("id") instanceof String id)) {
            return true;
        }
        Authentication user = SecurityContextHolder.getContext().getAuthentication();
        boolean limited = visibility.limit(user).isPresent();
        boolean write = "POST".equals(request.getMethod()) && CLOSED_WHEN_MERGED.matcher(request.getRequestURI()).find();
        if (!limited && !write) {
            return true;
        }
        store.find(id).ifPresent(c -> {
            if (limited && !visibility.canSee(user, c)) {
                throw ApiException.notFound("no conversation " + id);
            }
            if (write && Conversation.MERGED.equals(c.status())) {
                throw new ApiException(HttpStatus.CONFLICT, "conversation " + id + " was merged into " + c.mergedInto()
                        + "; write there");
            }
        });
        return true;
    }
}
