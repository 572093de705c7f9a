"""The people behind the assistant: agents' console accounts, passwords and refund limits
(`accounts`), handing a conversation to a person and back (`handoff`), what an agent does with a
ticket from the console or the terminal (`desk`), telling the shopper what a person decided
(`shopper_notices`), and spotting a shopper who is fed up (`frustration`).
"""
