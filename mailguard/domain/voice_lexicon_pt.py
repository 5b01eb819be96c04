"""What a customer says when they need a person: Portuguese (Brazil and Portugal).

The same signals as ``voice_lexicon`` (see its docstring). Both variants are covered where
they differ: "atendente" / "assistente", "falar com alguém" / "falar com um operador",
"está a ler" / "está lendo", "estou farto" / "cansei"; inflections by stems
("decepcionad[oa]s?", "insatisfeit[oa]s?").
"""

from __future__ import annotations

from mailguard.domain.rules import FrustrationTerm
from mailguard.domain.voice_lexicon import ASKS_FOR_HUMAN, term

PORTUGUESE: tuple[FrustrationTerm, ...] = (
    term(
        ASKS_FOR_HUMAN,
        "pt",
        r"\b(?:falar|conversar|tratar|comunicar|contactar|contatar) com (?:um|uma|algu[ée]m|o|a|"
        r"os|as|algum)(?: \w+)? (?:atendente|pessoa|humano|ser humano|operador\w*|funcion[áa]ri\w*|"
        r"respons[áa]vel|gerente|supervisor\w*|t[ée]cnic[oa]|assistente|colaborador\w*|"
        r"de verdade|real|de carne e osso)\b|"
        r"\b(?:pessoa|atendente|humano|operador\w*) (?:real|de verdade|de carne e osso)\b|"
        r"\bser humano\b|\bn[ãa]o (?:com )?(?:um|uma|o|a|mais um|outro) (?:rob[ôo]|bot|chatbot|"
        r"m[áa]quina|resposta autom[áa]tica|atendimento autom[áa]tico)\b|"
        r"\bem vez de (?:um|uma|o|a) (?:rob[ôo]|bot|chatbot|m[áa]quina)\b|"
        r"\bme (?:liguem|ligue|telefonem|telefone|contactem|contatem)\b|"
        r"\b(?:liguem|ligue|telefonem|telefone|contactem|contatem)-me\b|"
        r"\b(?:ligar|telefonar|retornar)-me\b|\bme (?:ligar|telefonar|retornar a liga[çc][ãa]o)\b|"
        r"\b(?:que|se) algu[ée]m (?:me )?(?:ligue|telefone|contacte|contate|atenda)\b",
    ),
    term(
        "anger",
        "pt",
        r"\b(?:inadmiss[íi]vel|inaceit[áa]vel|absurd[oa]|um absurdo|vergonh\w*|rid[íi]cul[oa]|"
        r"palha[çc]ada|descaso|desrespeito|falta de respeito|roubo|golpe|fraude|burla|"
        r"ladr[õo]es|furios[oa]|revoltad[oa]|revoltante|indignad[oa]|indigna[çc][ãa]o|"
        r"uma piada|p[ée]ssim[oa]|lament[áa]vel|incompet[êe]n\w*|n[ãa]o aguento mais|"
        r"estou (?:fart[oa]|cansad[oa])|fart[oa] de|cansei|de saco cheio|escandalos[oa]|"
        r"um esc[âa]ndalo|inacredit[áa]vel|intoler[áa]vel)\b",
    ),
    term(
        "dissatisfaction",
        "pt",
        r"\binsatisfeit[oa]s?\b|\bdescontente\w*|\bdecepcionad[oa]s?\b|\bdecep[çc][ãa]o\b|"
        r"\bdesiludid[oa]s?\b|\bfrustrad[oa]s?\b|\bfrustrante\b|\bchatead[oa]s?\b|"
        r"\baborrecid[oa]s?\b|\birritad[oa]s?\b|"
        r"\bn[ãa]o estou (?:nada |nem um pouco |minimamente )?(?:satisfeit[oa]|content[ea])\b|"
        r"\bmau (?:servi[çc]o|atendimento)\b|"
        r"\b(?:servi[çc]o|atendimento) (?:horr[íi]vel|p[ée]ssimo|terr[íi]vel)\b",
    ),
    term(
        "fed_up_automation",
        "pt",
        r"\b(?:outra|mais uma|s[óo]|sempre a mesma|apenas|somente|a mesma) (?:uma |a )?"
        r"(?:mesma )?(?:respostas?|mensage(?:m|ns)|e-?mails?) (?:autom[áa]tic[oa]s?|padr[ãa]o|"
        r"pront[oa]s?|gen[ée]ric[oa]s?)\b|"
        r"\brespostas? (?:autom[áa]ticas?|padr[ãa]o|prontas?|gen[ée]ricas?) (?:e depois|e mais "
        r"nada|de novo|outra vez|sem)\b|\bcopiar e colar\b|\ba mesma resposta\b|"
        r"\b(?:algu[ée]m|ningu[ée]m) (?:l[êe]|leu|est[áa] (?:lendo|a ler)|pode ler|vai ler)\b|"
        r"\bfalar com (?:um rob[ôo]|uma m[áa]quina|a parede)\b|"
        r"\b(?:o|seu|vosso) (?:rob[ôo]|chatbot|bot)\b|\bo mesmo menu\b",
    ),
    term("complaint", "pt", r"\b(?:reclama[çc](?:[ãa]o|[õo]es)|reclamar|queixa\w*)\b"),
    term(
        "consequence",
        "pt",
        r"\b(?:meu|minha|um|uma|ao meu|à minha) (?<!sou um )(?<!sou uma )advogad[oa]s?\b|"
        r"\b(?:a[çc][ãa]o judicial|processo judicial|processar\w*|justi[çc]a|tribunal|"
        r"procon|reclame aqui|consumidor\.gov|livro de reclama[çc][õo]es|deco|asae|"
        r"portal da queixa|julgado de paz|juizado|chargeback|contestar (?:a cobran[çc]a|o "
        r"pagamento|a compra)|redes sociais|avalia[çc][ãa]o negativa|tornar p[úu]blico|"
        r"nunca mais (?:compro|comprarei|volto))\b",
    ),
    term("cancel", "pt", r"\b(?:cancel\w*|rescindir|rescis[ãa]o|anular|anula[çc][ãa]o)\b"),
    term(
        "repeat_contact",
        "pt",
        r"\b(?:segunda|terceira|quarta|quinta|sexta|en[ée]sima) vez\b|\b(?:segundo|terceiro|"
        r"quarto|quinto|sexto|en[ée]simo) (?:e-?mail|protocolo|contato|contacto|pedido|"
        r"mensagem|chamado)\b|\bv[áa]rias vezes\b|\bquantas vezes\b|"
        r"\bj[áa] (?:liguei|escrevi|enviei|mandei|reclamei|pedi)\b[^.!?\n]{0,40}?\b(?:duas|"
        r"tr[êe]s|quatro|cinco|v[áa]rias|muitas|\d+) vezes\b",
    ),
    term(
        "waiting",
        "pt",
        r"\b(?:h[áa]|faz|fazem|j[áa] s[ãa]o|j[áa] se passaram|j[áa] passaram|passados?|mais de) "
        r"(?:um|uma|dois|duas|tr[êe]s|quatro|cinco|seis|sete|oito|dez|quinze|v[áa]rios|"
        r"v[áa]rias|muitos|muitas|\d+) (?:dias|semanas|meses|m[êe]s|semana)\b|"
        r"\b(?:continuo|estou|fico|sigo) (?:à espera|esperando|aguardando)\b",
    ),
    term(
        "no_answer",
        "pt",
        r"\bningu[ée]m (?:me )?(?:responde|respondeu|atende|atendeu|retorna|retornou|resolve|"
        r"resolveu|veio|ligou|diz nada)\b|\bat[ée] (?:agora|hoje) (?:nada|n[ãa]o|sem|nenhum\w*)\b|"
        r"\bainda (?:n[ãa]o|nada|sem)\b|\bsem (?:nenhuma |qualquer )?resposta\b|"
        r"\bnenhuma resposta\b|\bcontinua\w* (?:sem|por)\b|\be depois sil[êe]ncio\b",
    ),
    term("again", "pt", r"\b(?:de novo|novamente|outra vez|mais uma vez)\b"),
    term(
        "refund",
        "pt",
        r"\b(?:reembols\w*|estorno|dinheiro de volta|devolu[çc][ãa]o do (?:dinheiro|valor))\b",
    ),
)

INTENSIFIERS_PT = r"muito|muitíssimo|extremamente|totalmente|completamente|realmente|tão|bem"
